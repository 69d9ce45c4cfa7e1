#!/usr/bin/env node
/**
 * `npm install`'s second half (postinstall) and `npm run setup`: everything after the Node modules.
 *   1. the Electron binary: downloaded where the internet allows; only a warning where it cannot
 *      be (the engine, CLI and browser UI do not need it);
 *   2. the Python sidecar environment `python/.venv` from the pinned `python/requirements.txt`,
 *      skipped when a stamp keyed on the requirements and the interpreter says it is current;
 *   3. the build (`electron-vite build`): the CLI, `sfa serve` and the renderer.
 * Flags: --force (rebuild the Python environment), --skip-python, --skip-build.
 * Env: SFA_BOOTSTRAP_PYTHON (the Python 3.11 used to create the venv), SFA_SKIP_ELECTRON_DOWNLOAD.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

function findBootstrapPython() {
  const candidates = [process.env.SFA_BOOTSTRAP_PYTHON, 'python3.11', isWindows ? 'py' : 'python3', 'python'].filter(Boolean);
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, [...(candidate === 'py' ? ['-3.11'] : []), '-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
    if (probe.status === 0) {
      const version = probe.stdout.trim();
      if (version === '3.11') return { python: candidate, version };
      log(`python: ${candidate} is ${version}; the pinned environment needs 3.11 (librosa 0.11 and the torch build are pinned for it)`);
    }
  }
  return null;
}

function ensurePython() {
  const venv = join(root, 'python', '.venv');
  const requirements = join(root, 'python', 'requirements.txt');
  const python = join(venv, isWindows ? 'Scripts/python.exe' : 'bin/python');
  const stampFile = join(venv, '.sfa-stamp');
  const bootstrap = findBootstrapPython();
  if (!bootstrap) {
    throw new Error('no Python 3.11 found. Install Python 3.11 (or set SFA_BOOTSTRAP_PYTHON to one) and run `npm run setup`.');
  }
  const stamp = createHash('sha256').update(readFileSync(requirements)).update(bootstrap.version).digest('hex');
  if (!args.has('--force') && existsSync(python) && existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === stamp) {
    return log('python: environment up to date (python/.venv)');
  }
  if (args.has('--force') || !existsSync(python)) {
    rmSync(venv, { recursive: true, force: true });
    log(`python: creating python/.venv with ${bootstrap.python}`);
    if (run(bootstrap.python, ['-m', 'venv', venv]) !== 0) throw new Error('creating the Python virtual environment failed');
  }
  rmSync(stampFile, { force: true });
  log('python: installing the pinned requirements (torch, demucs, librosa, spotdl, yt-dlp ...)');
  const pip = [ '-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '-r', requirements];
  if (run(python, pip) !== 0) throw new Error('pip install -r python/requirements.txt failed (see above)');
  writeFileSync(stampFile, `${stamp}\n`);
  log('python: environment ready');
}

function build() {
  log('build: electron-vite build');
  const bin = join(root, 'node_modules', '.bin', isWindows ? 'electron-vite.cmd' : 'electron-vite');
  if (run(bin, ['build'], { shell: isWindows }) !== 0) throw new Error('the build failed');
}

try {
  ensureElectron();
  if (!args.has('--skip-python')) ensurePython();
  if (!args.has('--skip-build')) build();
  log('done');
} catch (error) {
  process.stderr.write(`[setup] FAILED: ${error.message}\n`);
  process.exit(1);
}
