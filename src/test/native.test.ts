/**
 * better-sqlite3 for Electron beside the Node build (scripts/native.mjs): setup's build step with
 * its processes faked (no Electron headers can be downloaded here), and `npm start`'s choice.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildElectronSqlite, desktopBlocker, electronSqlitePath, missingElectronSqliteMessage } from '../../scripts/native.mjs';
import { tempDir } from './fixtures';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function target(): string {
  const t = tempDir('sfa-native-');
  cleanups.push(t.cleanup);
  return electronSqlitePath('41.7.1', { dir: join(t.dir, 'cache') });
}

describe('better-sqlite3 for Electron', () => {
  it('is kept per Electron version, platform and architecture, apart from the Node build', () => {
    expect(electronSqlitePath('41.7.1', { dir: '/c', platform: 'linux', arch: 'x64' })).toBe('/c/better_sqlite3-electron-41.7.1-linux-x64.node');
    expect(electronSqlitePath('41.7.1')).not.toMatch(/better-sqlite3[/\\]build/);
  });

  it('setup installs the prebuilt Electron binary when it can be downloaded, leaving the Node build alone', () => {
    const out = target();
    const nodeBuild = join(process.cwd(), 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
    const before = readFileSync(nodeBuild);
    const calls: string[][] = [];
    const why = buildElectronSqlite('41.7.1', out, {
      run: (cmd: string, args: string[], opts: { cwd: string }) => {
        calls.push([cmd.split(/[/\\]/).pop()!, ...args]);
        mkdirSync(join(opts.cwd, 'build', 'Release'), { recursive: true });
        writeFileSync(join(opts.cwd, 'build', 'Release', 'better_sqlite3.node'), 'electron abi');
        return { status: 0 };
      },
    });
    expect(why).toBeNull();
    expect(calls[0]).toEqual(['prebuild-install', '--runtime', 'electron', '--target', '41.7.1', '--arch', process.arch]);
    expect(readFileSync(out, 'utf8')).toBe('electron abi');
    expect(readFileSync(nodeBuild).equals(before)).toBe(true);
  });

  it('falls back to a build against Electron headers, and only reports why when neither works', () => {
    const out = target();
    const calls: string[] = [];
    const why = buildElectronSqlite('41.7.1', out, { run: (cmd: string) => (calls.push(cmd.split(/[/\\]/).pop()!), { status: 1 }) });
    expect(calls).toEqual(['prebuild-install', 'node-gyp']);
    expect(why).toMatch(/could be downloaded/);
    expect(existsSync(out)).toBe(false);
  });

  it('npm start opens the window only with the binary, a display and the Electron build; otherwise says why', () => {
    const ready = { electronPath: '/e/electron', hasDisplay: true, electronVersion: '41.7.1', sqlitePresent: true };
    expect(desktopBlocker(ready)).toBeNull();
    expect(desktopBlocker({ ...ready, electronPath: null })).toMatch(/Electron binary not installed/);
    expect(desktopBlocker({ ...ready, hasDisplay: false })).toMatch(/No display/);
    expect(desktopBlocker({ ...ready, sqlitePresent: false })).toBe(missingElectronSqliteMessage('41.7.1'));
    expect(missingElectronSqliteMessage('41.7.1')).toMatch(/better-sqlite3 built for Electron 41\.7\.1[\s\S]*`npm run setup`/);
  });
});
