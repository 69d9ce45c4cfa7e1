import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { electronSqlitePath, missingElectronSqliteMessage } from '../scripts/native.mjs';
import { screenshot } from './support';

/** The Electron binary's path, or why it cannot be used here. */
function electronBinary(): { path: string } | { reason: string } {
  let path: string;
  try {
    path = createRequire(import.meta.url)('electron') as string;
  } catch (error) {
    return { reason: `the electron package does not resolve (${(error as Error).message.split('\n')[0]})` };
  }
  if (typeof path !== 'string' || !existsSync(path)) return { reason: 'Electron binary not installed (offline install: node_modules/electron/dist is absent)' };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return { reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset)' };
  if (!existsSync('out/main/index.js')) return { reason: 'the app is not built (run npm run build)' };
  const version = (createRequire(import.meta.url)('electron/package.json') as { version: string }).version;
  if (!existsSync(electronSqlitePath(version))) return { reason: missingElectronSqliteMessage(version) };
  return { path };
}

const binary = electronBinary();
if ('reason' in binary) console.log(`electron.spec.ts skipped: ${binary.reason}`);

test('the desktop window opens the library, sandboxed, with the bridge only', async () => {
  test.skip('reason' in binary, `Electron binary not usable: ${'reason' in binary ? binary.reason : ''}`);
  const userData = mkdtempSync(join(tmpdir(), 'sfa-electron-'));
  // The library goes where the CLI's goes: SFA_HOME here, so the run leaves nothing behind.
  const app = await electron.launch({
    executablePath: (binary as { path: string }).path,
    args: ['.', `--user-data-dir=${userData}`],
    env: { ...process.env, SFA_HOME: join(userData, 'library') } as Record<string, string>,
  });
  try {
    const window = await app.firstWindow();
    await expect(window.getByRole('heading', { name: 'Library' })).toBeVisible();
    expect(await window.evaluate(() => Object.keys((window as unknown as { sfa: object }).sfa).sort())).toEqual(['chooseFolder', 'getPathForFile', 'on', 'request', 'reveal', 'startDrag']);
    expect(existsSync(join(userData, 'library', 'library.sqlite'))).toBe(true);
    expect(await window.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    expect(window.url()).toBe('app://sfa/');
    await screenshot(window, 'electron-library');
  } finally {
    await app.close();
    rmSync(userData, { recursive: true, force: true });
  }
});
