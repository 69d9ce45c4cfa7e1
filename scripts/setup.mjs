#!/usr/bin/env node
/**
 * `npm install`'s second half (postinstall) and `npm run setup`: everything after the Node modules.
 *   1. the Electron binary: downloaded where the internet allows; only a warning where it cannot
 *      be (the engine, CLI and browser UI do not need it);
 *      and better-sqlite3 built for Electron's ABI beside the Node build (scripts/native.mjs);
 *   2. the Python sidecar environment `python/.venv` from the pinned `python/requirements.txt`,
 *      through the same provisioning module as the app's first-run setup (scripts/provision/):
 *      resumable steps recorded in a state file keyed on the requirements' hash;
 *   3. a Chromium for the end-to-end tests (scripts/browser.mjs): a system one, Playwright's
 *      download, or the OS package as root on Debian/Ubuntu; only a warning where none can be had;
 *   4. the build (`electron-vite build`): the CLI, `sfa serve` and the renderer.
 * Flags: --force (rebuild the Python environment), --skip-python, --skip-browser, --skip-build,
 * --cluster (make sure the pinned Ray of python/requirements-cluster.txt is in the sidecar
 * environment the engine uses, SFA_PYTHON's when set, and check that it imports).
 * Env: SFA_BOOTSTRAP_PYTHON (the Python 3.11 used to create the venv), SFA_SKIP_ELECTRON_DOWNLOAD,
 * SFA_CHROMIUM (the browser to use), SFA_SKIP_BROWSER_DOWNLOAD.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { provisionBrowser } from './browser.mjs';
import { provisionFfprobe } from './ffprobe.mjs';
import { buildElectronSqlite, electronSqlitePath, missingElectronSqliteMessage } from './native.mjs';
import { PYTHON_MINOR, ProvisionError, STATE_FILE, installCluster, lockHash, provision, pythonVersion, readState, venvPython } from './provision/index.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const isWindows = process.platform === 'win32';
const log = (message) => process.stdout.write(`[setup] ${message}\n`);

function run(cmd, argv, options = {}) {
  const result = spawnSync(cmd, argv, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function electronBinary() {
  const dist = join(root, 'node_modules', 'electron', 'dist');
  if (process.platform === 'darwin') return join(dist, 'Electron.app');
  return join(dist, isWindows ? 'electron.exe' : 'electron');
}

function ensureElectron() {
  const installer = join(root, 'node_modules', 'electron', 'install.js');
  if (!existsSync(installer)) return log('electron: package not installed (skipped)');
  if (existsSync(electronBinary())) return log('electron: binary present');
  if (process.env.SFA_SKIP_ELECTRON_DOWNLOAD || process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
    return log('electron: binary download skipped by the environment; `npm start` will serve the UI to a browser');
  }
  // Electron's own postinstall is denied in package.json "allowScripts" because npm rolls the
  // whole install back when it fails offline. We run it here and only warn.
  const result = spawnSync(process.execPath, [installer], { cwd: join(root, 'node_modules', 'electron'), stdio: 'pipe', timeout: 180_000 });
  if (result.status === 0 && existsSync(electronBinary())) log('electron: binary downloaded');
  else log('electron: WARNING the binary could not be downloaded (offline?); the desktop window is unavailable, `npm start` serves the UI to a browser instead. Retry later with `npm run setup`.');
}

/** better-sqlite3 for Electron's ABI beside the Node build (scripts/native.mjs), for `npm start`. */
function ensureElectronSqlite() {
  if (!existsSync(electronBinary())) return log('electron: no binary, so no Electron build of better-sqlite3 either (the browser UI needs neither)');
  const version = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
  const target = electronSqlitePath(version);
  if (existsSync(target)) return log(`electron: better-sqlite3 for Electron ${version} present`);
  const why = buildElectronSqlite(version, target);
  if (why) log(`electron: WARNING ${why}. ${missingElectronSqliteMessage(version)}`);
  else log(`electron: better-sqlite3 built for Electron ${version} (${target})`);
}

/** The old stamp (before the provisioning module): adopt an environment it vouches for instead of rebuilding it. */
function adoptLegacyStamp(venv, requirements) {
  const stampFile = join(venv, '.sfa-stamp');
  if (readState(venv) || !existsSync(stampFile) || !existsSync(venvPython(venv))) return;
  const version = pythonVersion(venvPython(venv));
  if (!version?.startsWith(`${PYTHON_MINOR}.`)) return;
  const stamp = createHash('sha256').update(readFileSync(requirements)).update(PYTHON_MINOR).digest('hex');
  if (readFileSync(stampFile, 'utf8').trim() !== stamp) return;
  const at = new Date().toISOString();
  const state = { version: 1, lockHash: lockHash(readFileSync(requirements, 'utf8')), lockFile: 'requirements.txt', basePython: null, steps: { python: { at }, venv: { at }, packages: { at } }, failed: null };
  writeFileSync(join(venv, STATE_FILE), `${JSON.stringify(state, null, 2)}\n`);
  rmSync(stampFile, { force: true });
}

/**
 * The sidecar environment, by the same code the app runs at first start (scripts/provision/):
 * completed steps are recorded in python/.venv/.sfa-provision.json and skipped next time; the key
 * is the hash of python/requirements.txt (identical to python/locks/linux-cpu.txt).
 */
async function ensurePython() {
  const venv = join(root, 'python', '.venv');
  const requirements = join(root, 'python', 'requirements.txt');
  if (args.has('--force')) rmSync(venv, { recursive: true, force: true });
  adoptLegacyStamp(venv, requirements);
  const candidates = [process.env.SFA_BOOTSTRAP_PYTHON, 'python3.11', ...(isWindows ? [['py', '-3.11']] : []), 'python3', 'python'].filter(Boolean);
  let lastStep = '';
  try {
    const result = await provision({
      envDir: venv,
      lockFile: requirements,
      // pytest and its helpers (a checkout's tools, never in users' locks) and Ray, which the
      // cluster tests need (users opt in with `npm run setup -- --cluster`)
      extraRequirements: [join(root, 'python', 'requirements-dev.txt'), join(root, 'python', 'requirements-cluster.txt')],
      packageRoot: join(root, 'python'),
      pythonCandidates: candidates,
      caller: 'dev',
      onOutput: (line) => process.stdout.write(`  ${line}\n`),
      onProgress: (e) => {
        const key = `${e.step}:${e.fraction === 1 ? 'end' : e.fraction === 0 ? 'start' : ''}`;
        if ((e.fraction === 0 || e.fraction === 1) && key !== lastStep) {
          lastStep = key;
          log(`python [${e.index + 1}/${e.count}] ${e.message}`);
        }
      },
    });
    log(result.ran.length ? `python: environment ready (python/.venv; ran ${result.ran.join(', ')})` : 'python: environment up to date (python/.venv)');
  } catch (error) {
    if (!(error instanceof ProvisionError)) throw error;
    const detail = error.detail ? `\n${error.detail.split('\n').slice(-15).map((l) => `  | ${l}`).join('\n')}` : '';
    const next = error.nextSteps.map((s) => `  - ${s}`).join('\n');
    if (error.step === 'verify') {
      // the environment is installed; a sidecar that does not start is a code problem, not setup's
      log(`python: WARNING ${error.message}${detail}\n${next}`);
      return;
    }
    throw new Error(`python (${error.step}): ${error.message}${detail}\nNext steps:\n${next}`);
  }
}

/**
 * `--cluster`: Ray for the cluster backend (README, "Processing a large catalogue on a cluster"),
 * by the provisioning core's installCluster (the routine the app's setup screen and Settings run):
 * into the sidecar environment the engine uses (SFA_PYTHON's when set, else python/.venv, whose
 * provisioning already includes requirements-cluster.txt: pip then finds everything present),
 * then `import ray` checked.
 */
async function ensureCluster() {
  const python = process.env.SFA_PYTHON || venvPython(join(root, 'python', '.venv'));
  const requirements = join(root, 'python', 'requirements-cluster.txt');
  log(`cluster: installing ${requirements} into ${python}`);
  try {
    const { version } = await installCluster({ python, requirements, onOutput: (line) => process.stdout.write(`  ${line}\n`) });
    log(`cluster: ray ${version} ready in ${python}`);
  } catch (error) {
    if (!(error instanceof ProvisionError)) throw error;
    const detail = error.detail ? `\n${error.detail.split('\n').slice(-10).map((l) => `  | ${l}`).join('\n')}` : '';
    throw new Error(`cluster: ${error.message}${detail}\nNext steps:\n${error.nextSteps.map((s) => `  - ${s}`).join('\n')}`);
  }
}

function build() {
  log('build: electron-vite build');
  const bin = join(root, 'node_modules', '.bin', isWindows ? 'electron-vite.cmd' : 'electron-vite');
  if (run(bin, ['build'], { shell: isWindows }) !== 0) throw new Error('the build failed');
}

try {
  ensureElectron();
  ensureElectronSqlite();
  if (!args.has('--skip-python')) await ensurePython();
  if (args.has('--cluster')) await ensureCluster();
  if (!args.has('--skip-browser')) {
    provisionBrowser();
    provisionFfprobe();
  }
  if (!args.has('--skip-build')) build();
  log('done');
} catch (error) {
  process.stderr.write(`[setup] FAILED: ${error.message}\n`);
  process.exit(1);
}
