/**
 * Windows: environments live under a short root in the local profile, and the deepest file of the
 * installed torch still fits in MAX_PATH there (long paths are off by default). The file list is
 * torch's own RECORD from the dev environment (the Linux wheel; the Windows wheel ships the same
 * licence tree and headers, its dist-info name is at most `+cu130` longer).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, win32 } from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentRoot, userEnvDir } from '../../../scripts/provision/index.mjs';
import { appRoot } from '../paths';

/** The longest Windows user name (SAM account name: 20 characters) in the default profile folder. */
const LOCALAPPDATA = `C:\\Users\\${'u'.repeat(20)}\\AppData\\Local`;
/** CreateFileW without the long-path opt-in: 260 including the terminating NUL; directories 248. */
const MAX_FILE = 259;
const MAX_DIR = 247;

function torchRecord(): string[] | null {
  const venv = join(appRoot(), 'python', '.venv');
  const lib = existsSync(join(venv, 'Lib', 'site-packages')) ? join(venv, 'Lib', 'site-packages') : join(venv, 'lib', 'python3.11', 'site-packages');
  const dist = existsSync(lib) ? readdirSync(lib).find((d) => /^torch-[\d.]+(\+\w+)?\.dist-info$/.test(d)) : undefined;
  if (!dist) return null;
  return readFileSync(join(lib, dist, 'RECORD'), 'utf8')
    .split('\n')
    .map((line) => line.split(',')[0]!)
    .filter((p) => p && !p.startsWith('..'))
    // the Windows wheel's dist-info carries the longest local version we pin (+cu130)
    .map((p) => p.replace(/^torch-[^/]+\.dist-info\//, 'torch-2.13.0+cu130.dist-info/'));
}

describe('Windows environment paths', () => {
  it('puts environments under %LOCALAPPDATA%\\sfa (local, not roaming), elsewhere under the data folder', () => {
    const env = { LOCALAPPDATA, APPDATA: `C:\\Users\\${'u'.repeat(20)}\\AppData\\Roaming` };
    const root = environmentRoot(`${env.APPDATA}\\Sound Forge Alchemy`, 'win32', env);
    expect(root).toBe(`${LOCALAPPDATA}\\sfa`);
    expect(userEnvDir(root, 'torch==2.13.0\n', 'win32')).toMatch(/^C:\\Users\\u{20}\\AppData\\Local\\sfa\\[0-9a-f]{12}$/);
    expect(environmentRoot('/home/me/.config/Sound Forge Alchemy', 'linux', {})).toBe('/home/me/.config/Sound Forge Alchemy/python');
    expect(environmentRoot('/x', 'win32', { SFA_ENV_ROOT: 'D:\\envs' })).toBe('D:\\envs');
  });

  const record = torchRecord();
  it.skipIf(!record)('fits the deepest file of the installed torch under MAX_PATH there', () => {
    if (!record) return console.log('skipped: python/.venv has no torch (run npm install)');
    const site = win32.join(userEnvDir(`${LOCALAPPDATA}\\sfa`, 'torch==2.13.0\n', 'win32'), 'Lib', 'site-packages');
    const paths = record.map((p) => win32.join(site, p));
    const longest = paths.reduce((a, b) => (b.length > a.length ? b : a));
    const longestDir = paths.map((p) => win32.dirname(p)).reduce((a, b) => (b.length > a.length ? b : a));
    console.log(`torch: ${paths.length} files; longest path ${longest.length} characters (limit ${MAX_FILE}), longest folder ${longestDir.length} (limit ${MAX_DIR})`);
    expect(longest.length).toBeLessThanOrEqual(MAX_FILE);
    expect(longestDir.length).toBeLessThanOrEqual(MAX_DIR);
    // the old location, %APPDATA%\sound-forge-alchemy\python\<16 hex>, did not fit
    const old = win32.join(`C:\\Users\\${'u'.repeat(20)}\\AppData\\Roaming\\sound-forge-alchemy\\python\\${'0'.repeat(16)}`, 'Lib', 'site-packages', longest.slice(site.length + 1));
    expect(old.length).toBeGreaterThan(MAX_FILE);
  });
});
