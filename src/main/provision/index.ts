/**
 * The app's first-run setup: the engine side of `setup.status` / `setup.start` / `setup:progress`.
 * The steps themselves are the shared provisioning core in scripts/provision/ (the same code
 * `npm install` runs for a dev checkout). This module picks the lock for this machine, the
 * environment folder `<home>/python/<lock-hash>/`, the bundled Python runtime, and turns the
 * core's progress and errors into contract types.
 *
 * Where the Python comes from (also `sidecar/environment.ts`): SFA_PYTHON (`explicit`), else the
 * dev checkout's python/.venv (`dev`, managed by npm install), else the provisioned env (`app`).
 *
 * Tests: pass `provisioner` (a fake with the core's `provision` signature). The browser e2e uses
 * SFA_FAKE_PROVISION=needed|fail, honoured only together with SFA_TEST=1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as core from '../../../scripts/provision/index.mjs';
import type { ProvisionError, ProvisionEvent, ProvisionOptions, ProvisionResult, StepName } from '../../../scripts/provision/index.mjs';
import type { ClusterInstallStatus, SetupProgress, SetupStatus } from '../../shared/contract';
import { SfaError } from '../../shared/errors';
import type { Logger } from '../log';
import { appRoot } from '../paths';
import { PYTHON_NO_BYTECODE, setProvisionedEnvironment } from '../sidecar/environment';
import { createClusterInstall, type ClusterInstall, type ClusterInstallDeps } from './cluster';

export type Provisioner = (options: ProvisionOptions) => Promise<ProvisionResult>;

export interface SetupOptions {
  home: string;
  modelsDir: string;
  emit: (progress: SetupProgress) => void;
  logger?: Logger;
  provisioner?: Provisioner;
  /** Force the source (tests): default from SFA_PYTHON / python/.venv. */
  source?: SetupStatus['source'];
  /** Where environments and the runtime copy live (tests); default `core.environmentRoot(home)`. */
  envRoot?: string;
  /** The optional Ray install (`cluster.install`): its event, and stand-ins for tests. */
  cluster?: Omit<ClusterInstallDeps, 'logger' | 'emit'> & { emit?: (status: ClusterInstallStatus) => void };
}

export interface Setup {
  status(): SetupStatus;
  /** Starts (or joins) a run; resolves with the status at once (state `running`). */
  start(options?: { offlineDir?: string }): SetupStatus;
  /** The run in progress, if any (tests await it). */
  running(): Promise<void> | null;
  /** Stops a run in progress (the app quits), and a Ray install: pip's process tree is ended; completed steps are kept. */
  stop(): Promise<void>;
  /** The optional cluster support in the same environment (its status is part of `status()`). */
  cluster: ClusterInstall;
  /** Starts the Ray install: only into a ready environment (SIDECAR_UNAVAILABLE before). */
  installCluster(options?: { offlineDir?: string }): ClusterInstallStatus;
}

const devVenvPython = (root: string) => join(root, 'python', '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

/** A fake provisioner for the browser e2e: walks the steps in ~2 s, or fails at `packages`. */
export function fakeProvisioner(mode: 'needed' | 'fail'): Provisioner {
  let attempts = 0;
  return async (options) => {
    attempts++;
    for (const [index, step] of core.STEPS.entries()) {
      for (const fraction of [0, 0.5, 1]) {
        options.onProgress?.({ step, index, count: core.STEPS.length, fraction, overall: (index + fraction) / core.STEPS.length, message: `${core.STEP_TITLES[step]} (fake)` });
        await new Promise((r) => setTimeout(r, 60));
      }
      if (mode === 'fail' && attempts === 1 && step === 'packages') {
        throw new core.ProvisionError('packages', 'Installing the Python packages failed (fake).', ['Check the internet connection and retry.'], 'pip: fake failure');
      }
    }
    return { envDir: options.envDir, python: core.venvPython(options.envDir), lockHash: 'fake', ran: [...core.STEPS], skipped: [] };
  };
}

export function createSetup(options: SetupOptions): Setup {
  const root = appRoot();
  const fake = process.env.SFA_TEST === '1' ? (process.env.SFA_FAKE_PROVISION as 'needed' | 'fail' | undefined) : undefined;
  const provisioner: Provisioner = options.provisioner ?? (fake ? fakeProvisioner(fake) : core.provision);
  const source: SetupStatus['source'] =
    options.source ?? (fake ? 'app' : process.env.SFA_PYTHON ? 'explicit' : existsSync(devVenvPython(root)) ? 'dev' : 'app');
  const locksDir = join(root, 'python', 'locks');
  const lock = core.selectLock(locksDir);
  const lockText = lock.text ?? '';
  const envRoot = options.envRoot ?? core.environmentRoot(options.home);
  const envDir = source === 'dev' ? join(root, 'python', '.venv') : core.userEnvDir(envRoot, lockText);
  if (source === 'app') setProvisionedEnvironment(envDir);

  const cluster = createClusterInstall({ ...options.cluster, emit: options.cluster?.emit ?? (() => {}), logger: options.logger });
  let run: Promise<void> | null = null;
  let abort: AbortController | null = null;
  let progress: SetupProgress | null = null;
  let error: SetupStatus['error'] = null;
  let finished = false;
  let lastEmit = 0;
  /** Steps completed in this process (the state file has them too, except with a fake provisioner). */
  const completed = new Set<StepName>();

  const runtimeJson = (() => {
    try {
      return JSON.parse(readFileSync(join(root, 'python', 'runtime.json'), 'utf8')) as { version: string };
    } catch {
      return null;
    }
  })();
  const bundledRuntime = join(root, 'python-runtime');

  const status = (): SetupStatus => {
    const env = core.environmentStatus(envDir, lockText);
    const ready = source === 'explicit' ? existsSync(process.env.SFA_PYTHON ?? '') : source === 'dev' ? existsSync(devVenvPython(root)) : env.ready || (fake ? finished : false);
    const failed = error ?? (env.failed && !run ? { ...env.failed, nextSteps: ['Retry the setup: completed steps are kept.'], detail: '' } : null);
    const done = new Set<StepName>(ready ? core.STEPS : [...env.done, ...completed]);
    if (fake && finished) core.STEPS.forEach((s) => done.add(s));
    const downloads = [
      ...(existsSync(core.runtimePython(bundledRuntime)) ? [] : [{ name: `Python ${runtimeJson?.version ?? core.PYTHON_MINOR} runtime`, sizeMb: core.DOWNLOAD_ESTIMATES_MB.runtime ?? 30 }]),
      { name: `Python packages for ${lock.name} (torch, demucs, librosa, spotdl, yt-dlp)`, sizeMb: core.DOWNLOAD_ESTIMATES_MB[lock.name] ?? 1000 },
    ];
    return {
      state: run ? 'running' : ready ? 'ready' : failed ? 'failed' : 'needed',
      source,
      envDir,
      lock: lock.name,
      accelerator: lock.accelerator,
      steps: core.STEPS.map((name) => ({
        name,
        title: core.STEP_TITLES[name],
        state: done.has(name) ? 'done' : run && progress?.step === name ? 'running' : failed?.step === name ? 'failed' : 'pending',
      })),
      downloads: ready ? [] : downloads,
      error: run ? null : failed,
      progress: run ? progress : null,
      cluster: cluster.status(),
    };
  };

  const onProgress = (event: ProvisionEvent) => {
    if (event.fraction === 1) completed.add(event.step);
    progress = { step: event.step, fraction: event.fraction, overall: event.overall, message: event.message, ...(event.bytes !== undefined ? { bytes: event.bytes, totalBytes: event.totalBytes ?? null } : {}) };
    const now = Date.now();
    // at most ~5 per second, but every step boundary
    if (event.fraction === 0 || event.fraction === 1 || now - lastEmit >= 200) {
      lastEmit = now;
      options.emit(progress);
    }
  };

  return {
    status,
    running: () => run,
    async stop() {
      abort?.abort(new Error('the app is quitting'));
      await Promise.all([run, cluster.stop()]);
    },
    cluster,
    installCluster(installOptions) {
      const state = status().state;
      if (state !== 'ready') {
        throw new SfaError('SIDECAR_UNAVAILABLE', `The engine's Python environment is ${state === 'running' ? 'still being set up' : 'not set up yet'}: Ray installs into it. Finish the setup first (the setup screen, or \`npm run setup\` in a checkout).`);
      }
      return cluster.start(installOptions);
    },
    start(startOptions = {}) {
      if (run) return status();
      abort = new AbortController();
      error = null;
      progress = null;
      options.logger?.info(`setup: provisioning ${envDir} (lock ${lock.name}${startOptions.offlineDir ? `, offline folder ${startOptions.offlineDir}` : ''})`);
      run = provisioner({
        envDir,
        lockFile: lock.file,
        packageRoot: join(root, 'python'),
        modelsDir: options.modelsDir,
        caller: 'app',
        offlineDir: startOptions.offlineDir,
        offlineOnly: !!startOptions.offlineDir,
        // the venv is made from a per-user copy of the runtime, never from inside the app (see core.copyRuntime)
        runtime: { dir: join(envRoot, 'runtime', runtimeJson?.version ?? 'bundled'), bundledDir: bundledRuntime, asset: core.runtimeAsset(runtimeJson), version: runtimeJson?.version },
        signal: abort.signal,
        verifyEnv: { ...PYTHON_NO_BYTECODE },
        onProgress,
        onOutput: (line) => options.logger?.debug(`setup: ${line}`),
      })
        .then(() => {
          finished = true;
          options.logger?.info('setup: environment ready');
        })
        .catch((e: unknown) => {
          const pe = e as ProvisionError;
          if (pe.cancelled) {
            options.logger?.info(`setup: stopped during ${pe.step}; it resumes there next time`);
            return;
          }
          error = { step: (pe.step ?? progress?.step ?? 'python') as StepName, message: pe.message ?? String(e), nextSteps: pe.nextSteps ?? [], detail: pe.detail ?? '' };
          options.logger?.error(`setup: ${error.step} failed: ${error.message}\n${error.detail}`);
        })
        .finally(() => {
          run = null;
          abort = null;
          if (progress) options.emit({ ...progress, message: error ? `Failed: ${error.message}` : 'Setup complete' });
        });
      return status();
    },
  };
}
