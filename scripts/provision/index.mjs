/**
 * Provisioning the Python sidecar environment: ONE code path with two callers.
 *   - `npm install` in a dev checkout (scripts/setup.mjs): env `python/.venv`, lock
 *     `python/requirements.txt`, the interpreter from PATH or SFA_BOOTSTRAP_PYTHON;
 *   - the app's first-run setup (src/main/provision/): env `<userData>/python/<lock-hash>/`, the
 *     lock chosen for this machine's hardware, the bundled relocatable CPython (or the pinned
 *     download of it), optionally an offline folder of wheels and models.
 * Plain ESM JavaScript (types in index.d.mts) because setup runs before the TypeScript build; the
 * engine imports this same file and electron-vite bundles it into out/main.
 *
 * Steps, in order (each resumable: a state file in the environment records completed steps,
 * which are skipped; a failed step is retried from its start):
 *   python    find (or fetch and unpack) a CPython 3.11
 *   venv      create the virtual environment with it
 *   packages  pip install the lock (or `--no-index --find-links <offline>/wheels`)
 *   models    copy separation models from `<offline>/models` into the model store (if any)
 *   verify    start the sidecar and ask its `doctor` op: torch, demucs, librosa, ffmpeg
 * Progress: `onProgress({ step, index, count, fraction, overall, message, bytes?, totalBytes? })`.
 * Failure: a ProvisionError with the step, a message and the next steps a person can take.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SidecarClient } from '../../src/main/sidecar/client.mjs';
import { lockName } from './locks.mjs';

export { LOCK_VARIANTS, lockName, renderLock, renderLocks } from './locks.mjs';

export const PYTHON_MINOR = '3.11';
export const STATE_FILE = '.sfa-provision.json';
export const STEPS = /** @type {const} */ (['python', 'venv', 'packages', 'models', 'verify']);
export const STEP_TITLES = {
  python: 'Python runtime',
  venv: 'Virtual environment',
  packages: 'Python packages (torch, demucs, librosa, spotdl, yt-dlp)',
  models: 'Separation models from the offline folder',
  verify: 'Check the engine (doctor)',
};
/** Rough download sizes, for the setup screen (MB). torch dominates; CUDA builds are far bigger. */
export const DOWNLOAD_ESTIMATES_MB = { runtime: 30, 'linux-cpu': 900, 'linux-cuda': 3300, 'windows-cpu': 450, 'windows-cuda': 3000, 'macos-arm64': 350, 'macos-x64': 400 };

const isWindows = process.platform === 'win32';

export class ProvisionError extends Error {
  /**
   * @param {string} step
   * @param {string} message
   * @param {string[]} nextSteps
   * @param {string} [detail]
   */
  constructor(step, message, nextSteps, detail) {
    super(message);
    this.name = 'ProvisionError';
    this.step = step;
    this.nextSteps = nextSteps;
    this.detail = detail ?? '';
  }
}

export function sha256(data) {
  return createHash('sha256').update(data).digest('hex');
}

/** The environment key: the lock's content (plus the interpreter's minor version). */
export function lockHash(lockText) {
  return sha256(lockText).slice(0, 16);
}

/** `<userData>/python/<lock-hash>`: an app update rebuilds the environment only when its lock changed. */
export function userEnvDir(userDataDir, lockText) {
  return join(userDataDir, 'python', lockHash(lockText));
}

export function venvPython(envDir) {
  return join(envDir, isWindows ? 'Scripts/python.exe' : 'bin/python');
}

export function venvBin(envDir) {
  return join(envDir, isWindows ? 'Scripts' : 'bin');
}

/** `cuda` when an NVIDIA driver answers, `mps` on Apple silicon, else `cpu`. */
export function detectAccelerator(platform = process.platform, arch = process.arch) {
  if (platform === 'darwin') return arch === 'arm64' ? 'mps' : 'cpu';
  if (process.env.SFA_ACCELERATOR) return process.env.SFA_ACCELERATOR;
  const probe = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
  return probe.status === 0 && /GPU \d/.test(probe.stdout ?? '') ? 'cuda' : 'cpu';
}

/** This machine's lock: `{ name, file, text, accelerator }` from `<locksDir>/<name>.txt`. */
export function selectLock(locksDir, { platform = process.platform, arch = process.arch, accelerator = detectAccelerator(platform, arch) } = {}) {
  const name = lockName(platform, arch, accelerator);
  const file = join(locksDir, `${name}.txt`);
  return { name, file, text: existsSync(file) ? readFileSync(file, 'utf8') : null, accelerator };
}

/** The runtime asset for this platform from python/runtime.json, or null. */
export function runtimeAsset(runtimeJson, platform = process.platform, arch = process.arch) {
  return runtimeJson?.assets?.[`${platform}-${arch}`] ?? null;
}

export function readState(envDir) {
  try {
    return JSON.parse(readFileSync(join(envDir, STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

function writeState(envDir, state) {
  mkdirSync(envDir, { recursive: true });
  const file = join(envDir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** The state as a summary: which steps are done, whether it is ready for `lockText`. */
export function environmentStatus(envDir, lockText) {
  const state = readState(envDir);
  const current = !!state && state.lockHash === lockHash(lockText);
  const done = current ? Object.keys(state.steps ?? {}) : [];
  return {
    envDir,
    ready: current && STEPS.every((s) => done.includes(s)) && existsSync(venvPython(envDir)),
    done: STEPS.filter((s) => done.includes(s)),
    failed: current ? (state.failed ?? null) : null,
  };
}

/** The interpreter's `major.minor`, or null when it does not run. */
export function pythonVersion(python, prefixArgs = []) {
  const probe = spawnSync(python, [...prefixArgs, '-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], { encoding: 'utf8', timeout: 30_000, windowsHide: true });
  if (probe.status !== 0) return null;
  return probe.stdout.trim();
}

/** Run a command; stream each output line to `onLine`; keep the last lines for errors. */
export function runCommand(cmd, args, { env, cwd, onLine, signal } = {}) {
  return new Promise((resolve) => {
    const tail = [];
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, signal });
    const feed = (stream) => {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk) => {
        buffer += chunk;
        const lines = buffer.split(/\r?\n|\r/);
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          tail.push(line);
          if (tail.length > 40) tail.shift();
          onLine?.(line);
        }
      });
      stream.on('end', () => buffer && (tail.push(buffer), onLine?.(buffer)));
    };
    feed(child.stdout);
    feed(child.stderr);
    child.on('error', (error) => resolve({ code: -1, tail: [...tail, String(error.message)] }));
    child.on('close', (code) => resolve({ code: code ?? -1, tail }));
  });
}

/** Files in a folder (recursive) whose name matches. */
function findFiles(dir, test) {
  if (!dir || !existsSync(dir)) return [];
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...findFiles(path, test));
    else if (test(entry.name)) out.push(path);
  }
  return out;
}

async function fileSha256(path) {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk);
  return hash.digest('hex');
}

/** Download `url` to `dest` (resuming a `.part` file with a Range request), checking sha256. */
export async function download(url, dest, { sha256: expected, fetchImpl = globalThis.fetch, onBytes } = {}) {
  const part = `${dest}.part`;
  mkdirSync(dirname(dest), { recursive: true });
  const have = existsSync(part) ? statSync(part).size : 0;
  const response = await fetchImpl(url, { headers: have ? { range: `bytes=${have}-` } : {} });
  if (!response.ok && response.status !== 206) throw new Error(`download failed: HTTP ${response.status} for ${url}`);
  const append = response.status === 206 && have > 0;
  const total = Number(response.headers.get('content-length') ?? 0) + (append ? have : 0) || null;
  const out = createWriteStream(part, { flags: append ? 'a' : 'w' });
  let bytes = append ? have : 0;
  try {
    for await (const chunk of response.body) {
      bytes += chunk.length;
      if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      onBytes?.(bytes, total);
    }
  } finally {
    await new Promise((r) => out.end(r));
  }
  if (expected) {
    const actual = await fileSha256(part);
    if (actual !== expected) {
      rmSync(part, { force: true });
      throw new Error(`checksum mismatch for ${basename(dest)}: expected ${expected}, got ${actual}`);
    }
  }
  renameSync(part, dest);
  return dest;
}

/** The interpreter inside an unpacked python-build-standalone `install_only` archive. */
export function runtimePython(runtimeDir) {
  return join(runtimeDir, 'python', isWindows ? 'python.exe' : 'bin/python3');
}

async function unpack(archive, runtimeDir) {
  const tmp = `${runtimeDir}.unpacking`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const result = await runCommand('tar', ['-xzf', archive, '-C', tmp]);
  if (result.code !== 0) throw new Error(`unpacking ${basename(archive)} failed: ${result.tail.slice(-3).join(' ')}`);
  rmSync(runtimeDir, { recursive: true, force: true });
  renameSync(tmp, runtimeDir);
}

/**
 * @param {import('./index.d.mts').ProvisionOptions} options
 * @returns {Promise<import('./index.d.mts').ProvisionResult>}
 */
export async function provision(options) {
  const { envDir, lockFile } = options;
  const lockText = readFileSync(lockFile, 'utf8');
  const hash = lockHash(lockText);
  const emit = (event) => options.onProgress?.(event);
  const onLine = options.onOutput;
  let state = readState(envDir);
  if (options.force || !state || state.lockHash !== hash) {
    // a new lock: keep a working interpreter and venv (pip reconciles), redo packages and checks
    const keep = !options.force && state ? Object.fromEntries(Object.entries(state.steps ?? {}).filter(([s]) => s === 'python' || s === 'venv')) : {};
    state = { version: 1, lockHash: hash, lockFile: basename(lockFile), basePython: state?.basePython ?? null, steps: keep, failed: null };
  }
  const ran = [];
  const skipped = [];
  const steps = {
    python: (report) => stepPython(options, state, report),
    venv: (report) => stepVenv(options, state, report, onLine),
    packages: (report) => stepPackages(options, lockFile, lockText, report, onLine),
    models: (report) => stepModels(options, report),
    verify: (report) => stepVerify(options, report),
  };
  for (const [index, step] of STEPS.entries()) {
    const report = (fraction, message, extra = {}) =>
      emit({ step, index, count: STEPS.length, fraction: Math.max(0, Math.min(1, fraction)), overall: (index + Math.max(0, Math.min(1, fraction))) / STEPS.length, message, ...extra });
    if (state.steps[step] && !(step === 'venv' && !existsSync(venvPython(envDir)))) {
      skipped.push(step);
      report(1, `${STEP_TITLES[step]}: already done`);
      continue;
    }
    if (options.skip?.includes(step)) {
      skipped.push(step);
      report(1, `${STEP_TITLES[step]}: skipped`);
      continue;
    }
    report(0, `${STEP_TITLES[step]}…`);
    try {
      await steps[step](report);
    } catch (error) {
      const failure = error instanceof ProvisionError ? error : new ProvisionError(step, error?.message ?? String(error), nextStepsFor(step, options), '');
      state.failed = { step, message: failure.message, at: new Date().toISOString() };
      writeState(envDir, state);
      throw failure;
    }
    state.steps[step] = { at: new Date().toISOString() };
    state.failed = null;
    writeState(envDir, state);
    ran.push(step);
    report(1, `${STEP_TITLES[step]}: done`);
  }
  return { envDir, python: venvPython(envDir), lockHash: hash, ran, skipped };
}

function nextStepsFor(step, options) {
  const offline = options.offlineDir
    ? [`Check that the offline folder ${options.offlineDir} holds a wheels/ folder with every package of the lock for this platform.`]
    : ['If this machine has no internet access, use an offline install folder (wheels/ and models/; see docs/PACKAGING.md).'];
  switch (step) {
    case 'python':
      return options.caller === 'dev'
        ? ['Install Python 3.11 (python.org, pyenv, or your package manager) or set SFA_BOOTSTRAP_PYTHON to one, then run `npm run setup`.']
        : ['Check the internet connection and retry: the Python runtime is downloaded once.', ...offline, 'Reinstall the app if its bundled runtime is damaged.'];
    case 'venv':
      return ['Check free disk space and that the data folder is writable, then retry.', 'Delete the environment folder to start over: ' + options.envDir];
    case 'packages':
      return ['Check the internet connection (PyPI and, for CUDA builds, download.pytorch.org) and retry: finished downloads are kept.', ...offline, 'See the last lines of pip output below.'];
    case 'models':
      return ['Check the models/ folder of the offline install folder (demucs .th and .yaml files).'];
    default:
      return ['Run the doctor in the System view for details; retry the setup; delete the environment folder to reinstall: ' + options.envDir];
  }
}

async function stepPython(options, state, report) {
  const tried = [];
  const accept = (python, prefixArgs = []) => {
    const version = pythonVersion(python, prefixArgs);
    tried.push(`${[python, ...prefixArgs].join(' ')}: ${version ?? 'does not run'}`);
    if (version && version.startsWith(`${PYTHON_MINOR}.`)) {
      state.basePython = { path: python, args: prefixArgs, version };
      report(1, `Python ${version} at ${python}`);
      return true;
    }
    return false;
  };
  if (state.basePython && existsSync(state.basePython.path) && accept(state.basePython.path, state.basePython.args ?? [])) return;
  for (const candidate of options.pythonCandidates ?? []) {
    const [cmd, ...prefix] = Array.isArray(candidate) ? candidate : [candidate];
    if (accept(cmd, prefix)) return;
  }
  const runtime = options.runtime;
  if (runtime) {
    for (const dir of [runtime.bundledDir, runtime.dir].filter(Boolean)) {
      if (existsSync(runtimePython(dir)) && accept(runtimePython(dir))) return;
    }
    // an offline folder may carry the runtime archive (python/<archive>.tar.gz)
    const archiveName = runtime.asset ? decodeURIComponent(basename(new URL(runtime.asset.url).pathname)) : null;
    const offlineArchives = findFiles(options.offlineDir, (n) => (archiveName ? n === archiveName : /^cpython-3\.11.*\.tar\.gz$/.test(n)));
    let archive = offlineArchives[0] ?? null;
    if (archive && runtime.asset?.sha256 && (await fileSha256(archive)) !== runtime.asset.sha256) {
      throw new ProvisionError('python', `The Python runtime in the offline folder does not match the pinned checksum: ${archive}`, nextStepsFor('python', options));
    }
    if (!archive && runtime.asset && !options.offlineOnly) {
      report(0.05, `Downloading Python ${runtime.version ?? PYTHON_MINOR}…`);
      archive = join(dirname(runtime.dir), archiveName);
      try {
        await download(runtime.asset.url, archive, {
          sha256: runtime.asset.sha256,
          fetchImpl: options.fetch,
          onBytes: (bytes, total) => report(total ? 0.05 + 0.8 * (bytes / total) : 0.3, `Downloading Python: ${(bytes / 1e6).toFixed(1)} MB`, { bytes, totalBytes: total }),
        });
      } catch (error) {
        throw new ProvisionError('python', `The Python runtime could not be downloaded: ${error.message}`, nextStepsFor('python', options));
      }
    }
    if (archive) {
      report(0.9, 'Unpacking Python…');
      await unpack(archive, runtime.dir);
      if (accept(runtimePython(runtime.dir))) return;
    }
  }
  throw new ProvisionError('python', `No Python ${PYTHON_MINOR} found.`, nextStepsFor('python', options), tried.join('\n'));
}

async function stepVenv(options, state, report, onLine) {
  const python = venvPython(options.envDir);
  const version = existsSync(python) ? pythonVersion(python) : null;
  if (version && version.startsWith(`${PYTHON_MINOR}.`)) return report(1, `Using the existing environment (Python ${version})`);
  const base = state.basePython;
  if (!base) throw new ProvisionError('venv', 'No base Python recorded: the python step must run first.', nextStepsFor('venv', options));
  mkdirSync(options.envDir, { recursive: true });
  // --clear: a half-made environment from an interrupted attempt starts over (the state file is rewritten after)
  const result = await runCommand(base.path, [...(base.args ?? []), '-m', 'venv', '--clear', options.envDir], { onLine });
  if (result.code !== 0 || !existsSync(python)) {
    throw new ProvisionError('venv', 'Creating the Python virtual environment failed.', nextStepsFor('venv', options), result.tail.join('\n'));
  }
}

function pinnedCount(lockText) {
  return lockText.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('-')).length;
}

async function stepPackages(options, lockFile, lockText, report, onLine) {
  const python = venvPython(options.envDir);
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '-r', lockFile];
  if (options.offlineDir) {
    const wheels = existsSync(join(options.offlineDir, 'wheels')) ? join(options.offlineDir, 'wheels') : options.offlineDir;
    args.push('--no-index', '--find-links', wheels);
  }
  const total = Math.max(1, pinnedCount(lockText));
  let seen = 0;
  let downloadedMb = 0;
  const result = await runCommand(python, args, {
    onLine: (line) => {
      onLine?.(line);
      const collecting = /^\s*(Collecting|Requirement already satisfied:|Processing|Looking in links)\s+(\S+)/.exec(line);
      if (collecting && collecting[1] !== 'Looking in links') {
        seen++;
        report(0.85 * Math.min(1, seen / total), `${collecting[1] === 'Requirement already satisfied:' ? 'Present' : 'Resolving'} ${collecting[2]} (${Math.min(seen, total)}/${total})`);
      }
      const downloading = /^\s*Downloading\s+(\S+)\s+\(([\d.]+)\s*(kB|MB|GB)\)/.exec(line);
      if (downloading) {
        const mb = Number(downloading[2]) * (downloading[3] === 'GB' ? 1000 : downloading[3] === 'kB' ? 0.001 : 1);
        downloadedMb += mb;
        report(0.85 * Math.min(1, seen / total), `Downloading ${downloading[1]} (${downloading[2]} ${downloading[3]})`, { bytes: Math.round(downloadedMb * 1e6) });
      }
      if (/^Installing collected packages/.test(line)) report(0.9, 'Installing the packages…');
    },
  });
  if (result.code !== 0) {
    const offline = options.offlineDir ? ` from the offline folder ${options.offlineDir}` : '';
    throw new ProvisionError('packages', `Installing the Python packages${offline} failed (pip exit ${result.code}).`, nextStepsFor('packages', options), result.tail.join('\n'));
  }
}

async function stepModels(options, report) {
  const source = options.offlineDir ? join(options.offlineDir, 'models') : null;
  if (!source || !existsSync(source) || !options.modelsDir) return report(1, 'No offline models to install (the default model is offered for download).');
  const files = findFiles(source, (n) => /\.(th|yaml|yml)$/.test(n));
  mkdirSync(options.modelsDir, { recursive: true });
  for (const [i, file] of files.entries()) {
    const dest = join(options.modelsDir, basename(file));
    if (!existsSync(dest) || statSync(dest).size !== statSync(file).size) {
      copyFileSync(file, `${dest}.part`);
      renameSync(`${dest}.part`, dest);
    }
    report((i + 1) / files.length, `Installed ${basename(file)}`, { bytes: statSync(file).size });
  }
}

/** Starts `python -m sfa_sidecar` and asks its doctor op, through the engine's own sidecar client. */
export async function sidecarDoctor(python, packageRoot, { timeoutMs = 180_000, env = {} } = {}) {
  const client = new SidecarClient({ python, packageRoot, env, helloTimeoutMs: timeoutMs });
  try {
    return await client.request('doctor', {}, { timeoutMs });
  } catch (error) {
    throw Object.assign(new Error(error.code ? `${error.code}: ${error.message}` : error.message), { stderr: client.stderrTail.join('\n').slice(-4000) });
  } finally {
    await client.shutdown();
  }
}

async function stepVerify(options, report) {
  report(0.1, 'Starting the engine sidecar (imports torch, demucs, librosa)…');
  let result;
  try {
    result = await sidecarDoctor(venvPython(options.envDir), options.packageRoot, { env: options.verifyEnv });
  } catch (error) {
    throw new ProvisionError('verify', `The sidecar does not start in the new environment: ${error.message}`, nextStepsFor('verify', options), error.stderr ?? '');
  }
  const versions = result?.versions ?? {};
  const missing = ['torch', 'demucs', 'librosa'].filter((name) => !versions[name]);
  if (missing.length) throw new ProvisionError('verify', `The environment lacks ${missing.join(', ')}.`, nextStepsFor('verify', options), JSON.stringify(versions));
  if (result.ffmpeg && !existsSync(result.ffmpeg)) throw new ProvisionError('verify', `ffmpeg is missing (${result.ffmpeg}).`, nextStepsFor('verify', options));
  report(1, `torch ${versions.torch}, demucs ${versions.demucs}, librosa ${versions.librosa}`);
}
