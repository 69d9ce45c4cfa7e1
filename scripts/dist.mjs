#!/usr/bin/env node
/**
 * `npm run dist` — installers for this OS (electron-builder.yml): Linux AppImage + deb, macOS dmg
 * (arm64 + x64), Windows nsis. Needs the internet: the Electron zip, Electron's headers (to rebuild
 * better-sqlite3 for Electron) and the pinned Python runtime (python/runtime.json) are downloaded.
 *   1. electron-vite build;
 *   2. the relocatable CPython for the target into dist/python-runtime/<platform>-<arch>
 *      (checksum-verified; skipped with --without-runtime: the app then downloads it at first run);
 *   3. electron-builder (extra arguments are passed through, e.g. `npm run dist -- --linux deb`).
 * Where a download is impossible it stops with what failed and what to do, instead of
 * electron-builder's stack trace. `npm run dist:dir` validates the configuration offline.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { runtimeTargets } from './packaging-config.mjs';
import { download, runtimeAsset } from './provision/index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const withoutRuntime = argv.includes('--without-runtime');
const passThrough = argv.filter((a) => a !== '--without-runtime');
const isWindows = process.platform === 'win32';
const log = (m) => process.stdout.write(`[dist] ${m}\n`);
const bin = (name) => join(root, 'node_modules', '.bin', isWindows ? `${name}.cmd` : name);
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;

/** Signs of a download that cannot happen (DNS, refused, unreachable, proxy, TLS to a blocked host). */
export const OFFLINE_PATTERN =
  /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ENETUNREACH|EHOSTUNREACH|ETIMEDOUT|getaddrinfo|no such host|dial tcp|fetch failed|network is unreachable|unable to get local issuer|net::ERR_|socket hang up|cannot resolve/i;

function offlineAdvice(what) {
  return [
    '',
    `[dist] CANNOT PACKAGE HERE: ${what} could not be downloaded (this machine has no access to it).`,
    '[dist] What to do:',
    '[dist]   - run `npm run dist` on a machine with internet access (CI does: see docs/PACKAGING.md), or',
    `[dist]   - pre-fill the caches: the Electron zip electron-v${electronVersion}-${process.platform}-${process.arch}.zip in ELECTRON_CACHE`,
    '[dist]     (or set ELECTRON_MIRROR to an internal mirror), the Electron headers for @electron/rebuild in ~/.electron-gyp,',
    '[dist]     and the Python runtime archive of python/runtime.json in dist/python-runtime/ (or pass --without-runtime);',
    '[dist]   - to check the configuration and the package layout offline: `npm run dist:dir` (not a runnable app).',
    '',
  ].join('\n');
}

/** The runtime for one `<platform>-<arch>` (the build's target, not this machine: an x64 dmg built on an arm64 Mac). */
async function fetchRuntime(target) {
  const runtimeJson = JSON.parse(readFileSync(join(root, 'python', 'runtime.json'), 'utf8'));
  const [platform, arch] = target.split('-');
  const asset = runtimeAsset(runtimeJson, platform, arch);
  const dir = join(root, 'dist', 'python-runtime', target);
  if (!asset) throw new Error(`python/runtime.json has no runtime for ${target}`);
  mkdirSync(dir, { recursive: true });
  if (existsSync(join(dir, 'python'))) return log(`python runtime ${target}: present (${dir})`);
  const archive = join(root, 'dist', 'python-runtime', decodeURIComponent(asset.url.split('/').pop()));
  log(`python runtime ${target}: downloading CPython ${runtimeJson.version} (${asset.url})`);
  await download(asset.url, archive, { sha256: asset.sha256 });
  const unpacked = spawnSync('tar', ['-xzf', archive, '-C', dir], { stdio: 'inherit' });
  if (unpacked.status !== 0) throw new Error(`unpacking ${archive} failed`);
}

/**
 * electron-builder rebuilds better-sqlite3 in node_modules for Electron's ABI; the CLI, `sfa serve`
 * and the tests run under Node and need it back.
 */
function restoreNodeAbi() {
  const probe = spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').close()"], { cwd: root, encoding: 'utf8' });
  if (probe.status === 0) return;
  log('better-sqlite3 is now built for Electron: rebuilding it for Node (npm rebuild better-sqlite3) so the CLI and tests keep working');
  spawnSync(isWindows ? 'npm.cmd' : 'npm', ['rebuild', 'better-sqlite3'], { cwd: root, stdio: 'inherit', shell: isWindows });
}

function runBuilder() {
  return new Promise((resolve) => {
    const child = spawn(bin('electron-builder'), ['--publish', 'never', ...passThrough], { cwd: root, shell: isWindows, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const forward = (stream, out) =>
      stream.on('data', (chunk) => {
        output += chunk;
        out.write(chunk);
      });
    forward(child.stdout, process.stdout);
    forward(child.stderr, process.stderr);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

log('electron-vite build');
if (spawnSync(bin('electron-vite'), ['build'], { cwd: root, stdio: 'inherit', shell: isWindows }).status !== 0) process.exit(1);

const problems = [];
const hostPlatform = argv.includes('--mac') ? 'darwin' : argv.includes('--win') ? 'win32' : argv.includes('--linux') ? 'linux' : process.platform;
if (!withoutRuntime) {
  try {
    const config = createRequire(import.meta.url)('js-yaml').load(readFileSync(join(root, 'electron-builder.yml'), 'utf8'));
    for (const target of runtimeTargets(config, hostPlatform, argv)) await fetchRuntime(target);
  } catch (error) {
    const message = `${error.message}${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ''}`;
    log(`python runtime: FAILED ${message}`);
    if (!OFFLINE_PATTERN.test(message)) process.exit(1);
    problems.push('the Python runtime (python-build-standalone, github.com)');
  }
}

/** The Electron zip already in @electron/get's cache (ELECTRON_CACHE or the per-user default)? */
function electronZipCached() {
  const cacheRoot =
    process.env.ELECTRON_CACHE ??
    (process.platform === 'darwin' ? join(homedir(), 'Library', 'Caches', 'electron') : isWindows ? join(process.env.LOCALAPPDATA ?? homedir(), 'electron', 'Cache') : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'electron'));
  const name = `electron-v${electronVersion}-${process.platform}-${process.arch}.zip`;
  const walk = (dir, depth) => existsSync(dir) && readdirSync(dir, { withFileTypes: true }).some((e) => e.name === name || (e.isDirectory() && depth < 3 && walk(join(dir, e.name), depth + 1)));
  return walk(cacheRoot, 0);
}

/**
 * Ask GitHub for Electron's checksums before starting electron-builder: offline, its native
 * rebuild would otherwise compile better-sqlite3 for minutes before the download fails.
 */
async function electronReachable() {
  if (process.env.ELECTRON_MIRROR || electronZipCached()) return null;
  try {
    const response = await fetch(`https://github.com/electron/electron/releases/download/v${electronVersion}/SHASUMS256.txt`, { method: 'HEAD', signal: AbortSignal.timeout(15_000) });
    return response.ok || response.status < 500 ? null : `HTTP ${response.status}`;
  } catch (error) {
    return `${error.message}${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ''}`;
  }
}

const electronProblem = await electronReachable();
if (electronProblem) {
  log(`electron: FAILED to reach the Electron ${electronVersion} download: ${electronProblem}`);
  problems.push(`Electron ${electronVersion} (its zip and headers, github.com / electronjs.org)`);
  process.stderr.write(offlineAdvice(problems.join(' and ')));
  process.exit(2);
}

log(`electron-builder (Electron ${electronVersion}; downloads its zip and headers)`);
const result = await runBuilder();
restoreNodeAbi();
if (result.code !== 0) {
  if (OFFLINE_PATTERN.test(result.output) || /electron-v[\d.]+-\w+-\w+\.zip|download/i.test(result.output.split('\n').slice(-40).join('\n'))) {
    problems.push(`Electron ${electronVersion} (its zip and headers, github.com / electronjs.org)`);
  } else {
    log(`electron-builder failed (exit ${result.code}); see its output above.`);
    process.exit(result.code);
  }
}
if (problems.length) {
  process.stderr.write(offlineAdvice(problems.join(' and ')));
  process.exit(2);
}
log('installers written to dist/');
