/**
 * better-sqlite3 for two runtimes. The CLI, `sfa serve` and the tests run under Node and load the
 * module npm built (Node's ABI); the unpackaged desktop app (`npm start`) runs under Electron,
 * whose ABI differs, and loads a second build kept beside it, chosen at run time with
 * better-sqlite3's `nativeBinding` option. Setup produces that build where Electron's prebuilt
 * binaries or headers can be downloaded; `npm start` says what to do where they could not be.
 * (A packaged app needs none of this: electron-builder rebuilds the module for Electron.)
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The folder of that build under an application root (the repository in a dev checkout). */
export function nativeCacheDir(appRoot = root) {
  return join(appRoot, 'node_modules', '.cache', 'sfa');
}

/**
 * Where the Electron-ABI build of better-sqlite3 lives for an Electron version on this machine.
 * Bundled code (the Electron host) must pass `dir` (nativeCacheDir(appRoot())): inside a bundle this
 * module's own location is not the repository's.
 */
export function electronSqlitePath(electronVersion, { dir = nativeCacheDir(), platform = process.platform, arch = process.arch } = {}) {
  return join(dir, `better_sqlite3-electron-${electronVersion}-${platform}-${arch}.node`);
}

/** The one message `npm start` and the desktop app give when that build is missing. */
export function missingElectronSqliteMessage(electronVersion) {
  return (
    `The desktop app needs better-sqlite3 built for Electron ${electronVersion}, and this install has none ` +
    '(its download or build needs the internet). Run `npm run setup` where the internet is available; ' +
    'until then the browser UI works the same (`npm start` serves it).'
  );
}

/**
 * Setup's step: produce the Electron build into `target` from a private copy of the package (the
 * Node build in node_modules stays as it is). Tries the prebuilt binary (prebuild-install), then a
 * source build against Electron's headers (node-gyp). Returns null on success, else why not.
 */
export function buildElectronSqlite(electronVersion, target, { run = spawnSync } = {}) {
  const pkg = join(root, 'node_modules', 'better-sqlite3');
  if (!existsSync(pkg)) return 'better-sqlite3 is not installed';
  const work = mkdtempSync(join(tmpdir(), 'sfa-sqlite-electron-'));
  try {
    cpSync(pkg, work, { recursive: true, filter: (src) => !src.includes(`${join(pkg, 'build')}`) });
    const bin = (name) => join(root, 'node_modules', '.bin', process.platform === 'win32' ? `${name}.cmd` : name);
    const attempts = [
      [bin('prebuild-install'), ['--runtime', 'electron', '--target', electronVersion, '--arch', process.arch]],
      [bin('node-gyp'), ['rebuild', '--release', '--runtime=electron', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers']],
    ];
    for (const [cmd, args] of attempts) {
      if (!existsSync(cmd)) continue;
      const r = run(cmd, args, { cwd: work, stdio: 'pipe', timeout: 600_000, shell: process.platform === 'win32' });
      const built = join(work, 'build', 'Release', 'better_sqlite3.node');
      if (r.status === 0 && existsSync(built)) {
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(built, `${target}.tmp`);
        renameSync(`${target}.tmp`, target);
        return null;
      }
    }
    return 'neither a prebuilt binary nor Electron headers could be downloaded';
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `npm start`'s choice: the desktop window, or why not (then it serves the browser UI). Electron
 * needs its binary, on Linux a display, and (unpackaged) the Electron build of better-sqlite3.
 */
export function desktopBlocker({ electronPath, hasDisplay, electronVersion, sqlitePresent }) {
  if (!electronPath) return 'Electron binary not installed (offline install)';
  if (!hasDisplay) return 'No display found (DISPLAY/WAYLAND_DISPLAY unset)';
  if (!sqlitePresent) return missingElectronSqliteMessage(electronVersion ?? 'unknown');
  return null;
}
