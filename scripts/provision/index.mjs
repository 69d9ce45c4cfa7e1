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
import { copyFileSync, cpSync, createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release as osRelease } from 'node:os';
import { basename, dirname, join, resolve, win32 } from 'node:path';
import { acquireEnvLock } from './envlock.mjs';
import { LOCK_VARIANTS, cudaBuildFor, lockInstallArgs, lockName } from './locks.mjs';
import { invalidate, readPyvenvCfg, readState, writeState } from './state.mjs';
import { SidecarClient } from '../../src/main/sidecar/client.mjs';

export { CUDA_BUILDS, LOCK_VARIANTS, TARGETS, cudaBuildFor, lockInstallArgs, lockName, parseLock, renderLock, renderLocks } from './locks.mjs';
export { STATE_FILE, STEP_DEPENDS, dependentsOf, readState } from './state.mjs';
export { acquireEnvLock, envLockPath } from './envlock.mjs';

export const PYTHON_MINOR = '3.11';
export const STEPS = /** @type {const} */ (['python', 'venv', 'packages', 'models', 'verify']);
export const STEP_TITLES = {
  python: 'Python runtime',
  venv: 'Virtual environment',
  packages: 'Python packages (torch, demucs, librosa, spotdl, yt-dlp)',
  models: 'Separation models from the offline folder',
  verify: 'Check the engine (doctor)',
};
/** Rough download sizes, for the setup screen (MB). torch dominates; CUDA builds are far bigger; `cluster`: Ray and what it adds (88 MB of wheels on linux-x86_64, ~270 MB installed). */
export const DOWNLOAD_ESTIMATES_MB = { runtime: 30, cluster: 90, 'linux-cpu': 900, 'linux-cuda': 3300, 'linux-cuda126': 3300, 'windows-cpu': 450, 'windows-cuda': 3000, 'windows-cuda126': 3000, 'macos-arm64': 350, 'macos-x64': 400 };

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

/** The environment key: the interpreter's minor version and the lock's content. */
export function lockHash(lockText) {
  return sha256(`python ${PYTHON_MINOR}\n${lockText}`).slice(0, 16);
}

/**
 * Where the app keeps its Python environments and its copy of the runtime (never inside the app:
 * an AppImage or a translocated macOS app is mounted at a new path on every launch).
 * Windows: `%LOCALAPPDATA%\sfa` — the local, not the roaming, profile (multi-GB, machine-specific),
 * and short, because torch's deepest file is ~172 characters below site-packages and long paths are
 * off by default (MAX_PATH 260). Elsewhere: `<userData>/python`. `SFA_ENV_ROOT` overrides both.
 */
export function environmentRoot(userDataDir, platform = process.platform, env = process.env) {
  if (env.SFA_ENV_ROOT) return env.SFA_ENV_ROOT;
  if (platform === 'win32') return win32.join(env.LOCALAPPDATA || win32.join(env.USERPROFILE || userDataDir, 'AppData', 'Local'), 'sfa');
  return join(userDataDir, 'python');
}

/** `<root>/<12 hex of the lock hash>`: an app update rebuilds the environment only when its lock changed. */
export function userEnvDir(root, lockText, platform = process.platform) {
  return (platform === 'win32' ? win32.join : join)(root, lockHash(lockText).slice(0, 12));
}

export function venvPython(envDir) {
  return join(envDir, isWindows ? 'Scripts/python.exe' : 'bin/python');
}

export function venvBin(envDir) {
  return join(envDir, isWindows ? 'Scripts' : 'bin');
}

/**
 * `cuda` (or `cuda:cu126` for older GPUs and drivers: locks.mjs CUDA_BUILDS) when an NVIDIA driver
 * answers, `mps` on Apple silicon, else `cpu`. `SFA_ACCELERATOR` overrides (cpu, cuda, cuda:cu126).
 */
export function detectAccelerator(platform = process.platform, arch = process.arch) {
  if (platform === 'darwin') return arch === 'arm64' ? 'mps' : 'cpu';
  if (process.env.SFA_ACCELERATOR) return process.env.SFA_ACCELERATOR;
  const query = spawnSync('nvidia-smi', ['--query-gpu=driver_version,compute_cap', '--format=csv,noheader'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
  const first = query.status === 0 ? (query.stdout ?? '').trim().split(/\r?\n/)[0] : '';
  if (first) {
    const [driver, compute] = first.split(',').map((s) => s.trim());
    const build = cudaBuildFor(driver, compute);
    return build ? `cuda:${build}` : 'cpu';
  }
  // an old driver without --query-gpu=compute_cap: the legacy build is the safe one
  const probe = spawnSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
  return probe.status === 0 && /GPU \d/.test(probe.stdout ?? '') ? 'cuda:cu126' : 'cpu';
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

/**
 * The venv's base interpreter folder (`home` in pyvenv.cfg) still exists: without it the venv's
 * python does not start (a dangling link, or a launcher pointing nowhere). Cheap: no process.
 */
export function venvIntact(envDir) {
  const home = readPyvenvCfg(envDir)?.home;
  return !!home && existsSync(home) && existsSync(venvPython(envDir));
}

/**
 * The state as a summary: which steps are done, whether it is ready for `lockText`. Ready needs
 * every step recorded for this lock (verify imports torch, demucs and librosa) and an intact venv.
 */
export function environmentStatus(envDir, lockText) {
  const state = readState(envDir);
  const current = !!state && state.lockHash === lockHash(lockText);
  const done = current ? Object.keys(state.steps ?? {}) : [];
  return {
    envDir,
    ready: current && STEPS.every((s) => done.includes(s)) && venvIntact(envDir),
    done: STEPS.filter((s) => done.includes(s)),
    failed: current ? (state.failed ?? null) : null,
  };
}

/** The interpreter's version and the real executable a venv made by it would point at; null when it does not run. */
export function probePython(python, prefixArgs = []) {
  const code = 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(getattr(sys, "_base_executable", sys.executable))';
  const probe = spawnSync(python, [...prefixArgs, '-c', code], { encoding: 'utf8', timeout: 30_000, windowsHide: true });
  if (probe.status !== 0) return null;
  const [version, executable] = probe.stdout.trim().split(/\r?\n/);
  return { version: version.trim(), executable: (executable ?? '').trim() };
}

/** The interpreter's `major.minor.micro`, or null when it does not run. */
export function pythonVersion(python, prefixArgs = []) {
  return probePython(python, prefixArgs)?.version ?? null;
}

/**
 * Ends a process and everything it started: pip runs build backends and compilers as children,
 * so on POSIX the command leads its own process group and the whole group is signalled (TERM,
 * then KILL after `graceMs`); on Windows `taskkill /T /F` ends the tree.
 */
export function killTree(child, graceMs = 3000) {
  if (!child.pid || child.exitCode !== null || child.signalCode !== null) return;
  if (isWindows) {
    spawnSync('taskkill', ['/pid', String(child.pid), '/T', '/F'], { windowsHide: true });
    return;
  }
  const signalGroup = (signal) => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  };
  signalGroup('SIGTERM');
  const timer = setTimeout(() => signalGroup('SIGKILL'), graceMs);
  timer.unref?.();
  child.once('close', () => clearTimeout(timer));
}

/**
 * Run a command; stream each output line to `onLine`; keep the last lines for errors. With a
 * `signal`, an abort ends the command's whole process tree and resolves `{ aborted: true }`.
 */
export function runCommand(cmd, args, { env, cwd, onLine, signal, onSpawn } = {}) {
  return new Promise((resolve) => {
    const tail = [];
    if (signal?.aborted) return resolve({ code: -1, tail, aborted: true });
    // detached: its own process group (POSIX), so killTree reaches pip's children too
    const child = spawn(cmd, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], windowsHide: true, detached: !isWindows });
    if (child.pid) onSpawn?.(child.pid);
    const onAbort = () => killTree(child);
    signal?.addEventListener('abort', onAbort, { once: true });
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
    child.on('error', (error) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code: -1, tail: [...tail, String(error.message)], aborted: !!signal?.aborted });
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? -1, tail, aborted: !!signal?.aborted });
    });
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

/** The error a cancelled run ends with (the app quitting, the user stopping it). */
export function cancelledError(step) {
  const error = new ProvisionError(step, 'The setup was stopped; it resumes from this step next time.', ['Start the setup again: completed steps are kept.']);
  error.cancelled = true;
  return error;
}

/**
 * Drops recorded steps whose ground has gone: an interpreter that no longer runs, a venv made
 * from another interpreter (or whose interpreter has gone) — and with them every step resting
 * on them (state.mjs). Returns the steps dropped, for the log.
 */
function revalidate(state, envDir) {
  const dropped = [];
  if (state.steps.python) {
    const base = state.basePython;
    const probe = base ? probePython(base.path, base.args ?? []) : null;
    if (!probe?.version.startsWith(`${PYTHON_MINOR}.`)) dropped.push(...invalidate(state, 'python'));
    else state.basePython = { ...base, version: probe.version, executable: probe.executable };
  }
  if (state.steps.venv && !venvMatchesBase(envDir, state.basePython)) dropped.push(...invalidate(state, 'venv'));
  return dropped;
}

/** The venv runs, and was made from `base` (pyvenv.cfg's `home` is the base's folder). */
function venvMatchesBase(envDir, base) {
  if (!venvIntact(envDir)) return false;
  const version = pythonVersion(venvPython(envDir));
  if (!version?.startsWith(`${PYTHON_MINOR}.`)) return false;
  if (!base?.executable) return true; // a state from before executables were recorded: the venv runs, keep it
  if (samePath(readPyvenvCfg(envDir)?.home, dirname(base.executable))) return true;
  // POSIX: the venv's python is a link (chain) to the interpreter it was made with; the same file
  // reached through another folder (a Homebrew or pyenv shim path) is the same interpreter
  if (isWindows) return false;
  try {
    return realpathSync(venvPython(envDir)) === realpathSync(base.executable);
  } catch {
    return false;
  }
}

function samePath(a, b) {
  if (!a || !b) return false;
  const norm = (p) => resolve(p).replace(/[\\/]+$/, '');
  return isWindows ? norm(a).toLowerCase() === norm(b).toLowerCase() : norm(a) === norm(b);
}

/**
 * @param {import('./index.d.mts').ProvisionOptions} options
 * @returns {Promise<import('./index.d.mts').ProvisionResult>}
 */
export async function provision(options) {
  const { envDir, lockFile, signal } = options;
  const lockText = [lockFile, ...(options.extraRequirements ?? [])].map((f) => readFileSync(f, 'utf8')).join('\n');
  const hash = lockHash(lockText);
  const emit = (event) => options.onProgress?.(event);
  const onLine = options.onOutput;
  const envLock = await acquireEnvLock(envDir, {
    signal,
    onWait: (holder) => {
      onLine?.(`another setup (process ${holder.pid}) is working on ${envDir}: waiting for it`);
      emit({ step: STEPS[0], index: 0, count: STEPS.length, fraction: 0, overall: 0, message: `Waiting for another setup (process ${holder.pid}) to finish…` });
    },
    onTakeover: (holder, reason) => onLine?.(`taking over the setup lock of process ${holder.pid} (${reason})`),
  }).catch((error) => {
    throw signal?.aborted ? cancelledError(STEPS[0]) : error;
  });
  try {
    return await provisionLocked(options, lockText, hash, emit, onLine, envLock);
  } finally {
    envLock.release();
  }
}

async function provisionLocked(options, lockText, hash, emit, onLine, envLock) {
  const { envDir, lockFile, signal } = options;
  let state = readState(envDir);
  if (options.force || !state || state.lockHash !== hash) {
    // a new lock: keep a working interpreter and venv (pip reconciles), redo packages and checks
    const keep = !options.force && state ? Object.fromEntries(Object.entries(state.steps ?? {}).filter(([s]) => s === 'python' || s === 'venv')) : {};
    state = { version: 2, lockHash: hash, lockFile: basename(lockFile), basePython: state?.basePython ?? null, steps: keep, failed: null };
  }
  state.steps ??= {};
  const dropped = revalidate(state, envDir);
  if (dropped.length) {
    onLine?.(`redoing ${dropped.join(', ')}: what they were done on has changed`);
    writeState(envDir, state);
  }
  const run = { signal, onSpawn: (pid) => envLock.setChild(pid) };
  const ran = [];
  const skipped = [];
  const steps = {
    python: (report) => stepPython(options, state, report),
    venv: (report) => stepVenv(options, state, report, onLine, run),
    packages: (report) => stepPackages(options, lockText, report, onLine, run),
    models: (report) => stepModels(options, report),
    verify: (report) => stepVerify(options, report, run),
  };
  for (const [index, step] of STEPS.entries()) {
    const report = (fraction, message, extra = {}) =>
      emit({ step, index, count: STEPS.length, fraction: Math.max(0, Math.min(1, fraction)), overall: (index + Math.max(0, Math.min(1, fraction))) / STEPS.length, message, ...extra });
    if (state.steps[step]) {
      skipped.push(step);
      report(1, `${STEP_TITLES[step]}: already done`);
      continue;
    }
    if (options.skip?.includes(step)) {
      skipped.push(step);
      report(1, `${STEP_TITLES[step]}: skipped`);
      continue;
    }
    if (signal?.aborted) throw cancelledError(step);
    report(0, `${STEP_TITLES[step]}…`);
    try {
      await steps[step](report);
      if (signal?.aborted) throw cancelledError(step);
    } catch (error) {
      if (signal?.aborted || error?.cancelled) {
        writeState(envDir, state);
        throw error?.cancelled ? error : cancelledError(step);
      }
      const failure = error instanceof ProvisionError ? error : new ProvisionError(step, error?.message ?? String(error), nextStepsFor(step, options), '');
      state.failed = { step, message: failure.message, at: new Date().toISOString() };
      writeState(envDir, state);
      throw failure;
    }
    // a redone step invalidates what rested on it (a rebuilt venv has no packages)
    invalidate(state, step);
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

/**
 * Copies the runtime bundled in the app to `dest` (a per-user folder that stays put), so the venv
 * never points into the app: an AppImage is mounted at a new /tmp/.mount_* path on every launch,
 * a macOS app may run translocated or from the dmg, and an update replaces the folder. Links
 * inside the runtime are copied as they are (python-build-standalone's are relative).
 */
export function copyRuntime(fromDir, dest) {
  const tmp = `${dest}.copying-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(dirname(dest), { recursive: true });
  cpSync(fromDir, tmp, { recursive: true, verbatimSymlinks: true, force: true });
  writeFileSync(join(tmp, '.sfa-runtime.json'), `${JSON.stringify({ copiedFrom: fromDir, at: new Date().toISOString() })}\n`);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
}

async function stepPython(options, state, report) {
  const tried = [];
  const accept = (python, prefixArgs = []) => {
    const probe = probePython(python, prefixArgs);
    tried.push(`${[python, ...prefixArgs].join(' ')}: ${probe?.version ?? 'does not run'}`);
    if (probe && probe.version.startsWith(`${PYTHON_MINOR}.`)) {
      state.basePython = { path: python, args: prefixArgs, version: probe.version, executable: probe.executable };
      report(1, `Python ${probe.version} at ${python}`);
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
    // the per-user copy (made earlier, or unpacked from a download) first
    if (existsSync(runtimePython(runtime.dir)) && accept(runtimePython(runtime.dir))) return;
    if (runtime.bundledDir && existsSync(runtimePython(runtime.bundledDir))) {
      report(0.3, 'Copying the bundled Python runtime to the data folder…');
      try {
        copyRuntime(runtime.bundledDir, runtime.dir);
      } catch (error) {
        throw new ProvisionError('python', `The bundled Python runtime could not be copied to ${runtime.dir}: ${error.message}`, nextStepsFor('venv', options));
      }
      if (accept(runtimePython(runtime.dir))) return;
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

async function stepVenv(options, state, report, onLine, run) {
  const python = venvPython(options.envDir);
  if (venvMatchesBase(options.envDir, state.basePython)) return report(1, `Using the existing environment (Python ${state.basePython?.version ?? ''})`);
  const base = state.basePython;
  if (!base) throw new ProvisionError('venv', 'No base Python recorded: the python step must run first.', nextStepsFor('venv', options));
  mkdirSync(options.envDir, { recursive: true });
  // --clear: a venv from another interpreter, or half-made by an interrupted attempt, starts over
  // (the packages step, resting on it, is redone: state.mjs)
  const result = await runCommand(base.path, [...(base.args ?? []), '-m', 'venv', '--clear', options.envDir], { onLine, ...run });
  if (result.aborted) throw cancelledError('venv');
  if (result.code !== 0 || !existsSync(python)) {
    throw new ProvisionError('venv', 'Creating the Python virtual environment failed.', nextStepsFor('venv', options), result.tail.join('\n'));
  }
}

/** pip's arguments for an offline install folder (`<dir>/wheels`, or the folder itself); none without one. */
function offlineArgs(offlineDir) {
  if (!offlineDir) return [];
  const wheels = existsSync(join(offlineDir, 'wheels')) ? join(offlineDir, 'wheels') : offlineDir;
  return ['--no-index', '--find-links', wheels];
}

function pinnedCount(lockText) {
  return lockText.split('\n').filter((l) => l.trim() && !l.startsWith('#') && !l.startsWith('-')).length;
}

/**
 * A pip output line reader turning pip's own lines into progress (packages resolved out of
 * `total`, MB downloaded): shared by the packages step and the cluster install.
 */
function pipProgress(total, report, onLine) {
  total = Math.max(1, total);
  let seen = 0;
  let downloadedMb = 0;
  return (line) => {
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
  };
}

/** This Mac's macOS version (`14.0`, `10.15`) from the Darwin kernel's major version; null elsewhere. */
export function macosVersion(platform = process.platform, release = osRelease()) {
  if (platform !== 'darwin') return null;
  const darwin = Number.parseInt(release, 10);
  return darwin >= 20 ? `${darwin - 9}.0` : `10.${darwin - 4}`;
}

const versionBelow = (a, b) => {
  const [x, y] = a.split('.').map(Number);
  const [p, q] = b.split('.').map(Number);
  return x < p || (x === p && y < q);
};

async function stepPackages(options, lockText, report, onLine, run) {
  const python = venvPython(options.envDir);
  const needs = LOCK_VARIANTS[basename(options.lockFile, '.txt')]?.targets.find((t) => t.macos)?.macos;
  const have = macosVersion();
  if (needs && have && versionBelow(have, needs)) {
    throw new ProvisionError('packages', `The Python packages for this Mac need macOS ${needs} or later (torch publishes no wheels for older versions); this Mac runs macOS ${have}.`, [
      `Update macOS to ${needs} or later, then retry the setup.`,
    ]);
  }
  const requirements = [options.lockFile, ...(options.extraRequirements ?? [])].flatMap((f) => ['-r', f]);
  const args = [...(options.pipCommand ?? ['-m', 'pip']), 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', ...lockInstallArgs(lockText), ...requirements];
  args.push(...offlineArgs(options.offlineDir));
  const result = await runCommand(python, args, { ...run, onLine: pipProgress(pinnedCount(lockText), report, onLine) });
  if (result.aborted) throw cancelledError('packages');
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

/** `promise`, or a cancelled rejection as soon as `signal` aborts (the app quitting does not wait for a sidecar's answer). */
function untilAborted(promise, signal) {
  if (!signal) return promise;
  promise.catch(() => {}); // abandoned on abort: its own timeout ends it
  return Promise.race([promise, new Promise((_, reject) => signal.addEventListener('abort', () => reject(cancelledError('verify')), { once: true }))]);
}

/** What "ready" means: these import in the environment (not just a doctor's version strings). */
export const REQUIRED_IMPORTS = ['torch', 'demucs', 'librosa'];

async function stepVerify(options, report, run) {
  report(0.05, `Importing ${REQUIRED_IMPORTS.join(', ')}…`);
  const imported = await runCommand(venvPython(options.envDir), ['-c', `import ${REQUIRED_IMPORTS.join(', ')}`], { ...run, env: options.verifyEnv });
  if (imported.aborted) throw cancelledError('verify');
  if (imported.code !== 0) {
    const last = imported.tail.filter(Boolean).at(-1) ?? `exit ${imported.code}`;
    throw new ProvisionError('verify', `The environment does not import ${REQUIRED_IMPORTS.join(', ')}: ${last}`, nextStepsFor('verify', options), imported.tail.join('\n'));
  }
  report(0.3, 'Starting the engine sidecar…');
  let result;
  try {
    result = await untilAborted(sidecarDoctor(venvPython(options.envDir), options.packageRoot, { env: options.verifyEnv }), run.signal);
  } catch (error) {
    if (error?.cancelled) throw cancelledError('verify');
    throw new ProvisionError('verify', `The sidecar does not start in the new environment: ${error.message}`, nextStepsFor('verify', options), error.stderr ?? '');
  }
  const versions = result?.versions ?? {};
  const missing = ['torch', 'demucs', 'librosa'].filter((name) => !versions[name]);
  if (missing.length) throw new ProvisionError('verify', `The environment lacks ${missing.join(', ')}.`, nextStepsFor('verify', options), JSON.stringify(versions));
  if (result.ffmpeg && !existsSync(result.ffmpeg)) throw new ProvisionError('verify', `ffmpeg is missing (${result.ffmpeg}).`, nextStepsFor('verify', options));
  report(1, `torch ${versions.torch}, demucs ${versions.demucs}, librosa ${versions.librosa}`);
}

/**
 * The optional cluster support: the pinned Ray of `requirements` (python/requirements-cluster.txt,
 * which pins every dependency the platform locks lack, hence --no-deps) pip-installed into the
 * environment of `python`, then `import ray` checked. One routine for `npm run setup -- --cluster`,
 * the app's setup screen and Settings, and `sfa cluster install`. Progress as the packages step's
 * (step `cluster`); failure: a ProvisionError (step `cluster`) whose next steps follow pip's own
 * messages (network, disk full, permissions); `signal` ends pip's process tree (`cancelled`).
 * @param {import('./index.d.mts').ClusterInstallOptions} options
 * @returns {Promise<{ python: string; version: string }>}
 */
export async function installCluster(options) {
  const { python, requirements, signal } = options;
  const report = (fraction, message, extra = {}) => {
    const f = Math.max(0, Math.min(1, fraction));
    options.onProgress?.({ step: 'cluster', index: 0, count: 1, fraction: f, overall: f, message, ...extra });
  };
  if (!existsSync(python)) {
    throw new ProvisionError('cluster', `No Python environment at ${python}: Ray installs into the engine's environment.`, [
      'Finish the engine setup first (the setup screen in the app, `npm run setup` in a checkout), then install cluster support.',
    ]);
  }
  const stopped = () =>
    Object.assign(new ProvisionError('cluster', 'The Ray install was stopped.', ['Start it again: pip keeps what it finished downloading.']), { cancelled: true });
  report(0, 'Installing Ray (cluster support)…');
  const requirementsText = readFileSync(requirements, 'utf8');
  const args = [...(options.pipCommand ?? ['-m', 'pip']), 'install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--no-deps', '-r', requirements, ...offlineArgs(options.offlineDir)];
  const result = await runCommand(python, args, { signal, env: options.env, onLine: pipProgress(pinnedCount(requirementsText), report, options.onOutput) });
  if (result.aborted) throw stopped();
  if (result.code !== 0) {
    const { reason, nextSteps } = pipFailure(result.tail.join('\n'), python, options.offlineDir);
    throw new ProvisionError('cluster', `Installing Ray failed${reason ? `: ${reason}` : ''} (pip exit ${result.code}).`, nextSteps, result.tail.join('\n'));
  }
  report(0.95, 'Checking that Ray imports…');
  const check = await runCommand(python, ['-c', 'import ray; print(ray.__version__)'], { signal, env: options.env });
  if (check.aborted) throw stopped();
  const version = check.tail.filter((l) => l.trim()).at(-1)?.trim() ?? '';
  if (check.code !== 0 || !/^\d+\.\d+/.test(version)) {
    throw new ProvisionError('cluster', `Ray was installed but does not import in ${python}: ${version || `exit ${check.code}`}`, [
      'Install it again (a download cut short leaves a broken package).',
      'Run the doctor (`sfa doctor`, or System in the app) and see the lines below.',
    ], check.tail.join('\n'));
  }
  report(1, `Ray ${version} ready`);
  return { python, version };
}

/** What pip's last lines say went wrong, and what a person can do about it. */
function pipFailure(output, python, offlineDir) {
  const seeBelow = 'See the last lines of pip output below.';
  if (/No space left on device|Errno 28/i.test(output)) {
    return { reason: 'no space left on the disk', nextSteps: [`Free about ${DOWNLOAD_ESTIMATES_MB.cluster * 4} MB on the disk holding ${dirname(dirname(python))} (Ray takes ~270 MB installed), then install again.`, seeBelow] };
  }
  if (/Permission denied|Errno 13|Access is denied/i.test(output)) {
    return { reason: 'the environment is not writable', nextSteps: [`Make ${dirname(dirname(python))} writable by this user (or set SFA_PYTHON to an environment you own), then install again.`, seeBelow] };
  }
  if (/NewConnectionError|Failed to establish a new connection|Temporary failure in name resolution|Name or service not known|getaddrinfo failed|Network is unreachable|ConnectTimeout|ReadTimeout|timed out|ProxyError|SSLError|Could not fetch URL/i.test(output)) {
    return {
      reason: 'PyPI could not be reached',
      nextSteps: ['Check the internet connection (pypi.org and files.pythonhosted.org, or your proxy) and install again: finished downloads are kept.', 'Without internet access: an offline folder with the wheels of python/requirements-cluster.txt (docs/PACKAGING.md).', seeBelow],
    };
  }
  if (/No matching distribution found|Could not find a version/i.test(output)) {
    return offlineDir
      ? { reason: `a package is missing from the offline folder ${offlineDir}`, nextSteps: [`Put the wheels of python/requirements-cluster.txt for this platform in ${offlineDir}/wheels (\`pip download --no-deps -r python/requirements-cluster.txt -d wheels\`), then install again.`, seeBelow] }
      : { reason: 'no Ray build for this platform and Python', nextSteps: ['Ray publishes builds for Linux (x86-64, arm64), macOS on Apple silicon and Windows x86-64; on another platform, run the cluster from a supported machine.', seeBelow] };
  }
  return { reason: '', nextSteps: ['Install again; if it fails the same way, run the doctor (`sfa doctor`) and report the lines below.', seeBelow] };
}
