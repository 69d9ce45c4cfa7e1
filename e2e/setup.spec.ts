/**
 * The first-run setup screen in the browser host. This spec starts its own `sfa serve` on a temp
 * home with the provisioning steps faked at the engine boundary (SFA_TEST=1 +
 * SFA_FAKE_PROVISION=fail: the first attempt fails at `packages`, the retry completes), so no
 * Python or network is involved; the real steps are covered by src/main/provision/provision.test.ts.
 */
import { expect, test } from '@playwright/test';
import { ownServer } from './support';

let served: Awaited<ReturnType<typeof ownServer>>;
let url: string;

test.beforeAll(async () => {
  served = await ownServer({ SFA_TEST: '1', SFA_FAKE_PROVISION: 'fail' });
  url = `${served.url}/?token=${served.token}`;
});

test.afterAll(async () => {
  await served?.stop();
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
  // ready: the app at once, nothing left to click through (cluster support is an optional box on
  // the setup screen, never a dialog of its own after it)
  await expect(page.getByRole('dialog')).toHaveCount(0);
});
