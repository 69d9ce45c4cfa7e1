/**
 * The first-run setup screen in the browser host. This spec starts its own `sfa serve` on a temp
 * home with the provisioning steps faked at the engine boundary (SFA_TEST=1 +
 * SFA_FAKE_PROVISION=fail: the first attempt fails at `packages`, the retry completes), so no
 * Python or network is involved; the real steps are covered by src/main/provision/provision.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect, test } from '@playwright/test';

let child: ChildProcess;
let home: string;
let url: string;

test.beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sfa-e2e-setup-'));
  child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SFA_LOG: 'warn', SFA_TEST: '1', SFA_FAKE_PROVISION: 'fail', SFA_DEFAULT_MODEL: 'dsp' },
  });
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('sfa serve printed nothing in 30 s')), 30_000);
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
  });
  const served = JSON.parse(first) as { url: string; token: string };
  url = `${served.url}/?token=${served.token}`;
});

test.afterAll(async () => {
  child?.kill('SIGTERM');
  await new Promise((r) => setTimeout(r, 500));
  rmSync(home, { recursive: true, force: true });
});

test('first run: shows downloads, fails a step with next steps, retries to ready', async ({ page }) => {
  await page.goto(url);
  const dialog = page.getByRole('dialog', { name: 'Set up the separation engine' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByText(/What will be downloaded/)).toBeVisible();
  await expect(dialog.getByText(/Python packages for/)).toBeVisible();
  await dialog.getByRole('button', { name: 'Download and install' }).click();
  const alert = dialog.getByRole('alert');
  await expect(alert).toContainText('Setup stopped at');
  await expect(alert).toContainText('Check the internet connection and retry.');
  await expect(dialog.locator('[data-step="venv"]')).toContainText('done');
  await dialog.getByRole('button', { name: 'Retry' }).click();
  await expect(dialog).toBeHidden({ timeout: 15_000 });
});
