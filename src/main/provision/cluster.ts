/**
 * The optional cluster support from the app: the engine side of `cluster.install`, the `cluster`
 * part of `setup.status`, and the `cluster:install` event. The install itself is the provisioning
 * core's installCluster (the routine `npm run setup -- --cluster` runs), into the interpreter the
 * sidecars use (sidecar/environment.ts: SFA_PYTHON, python/.venv, or the provisioned env), so a
 * cluster driver started after it imports Ray: no app restart.
 */
import { join } from 'node:path';
import * as core from '../../../scripts/provision/index.mjs';
import type { ClusterInstallOptions, ProvisionError } from '../../../scripts/provision/index.mjs';
import type { ClusterInstallStatus } from '../../shared/contract';
import { installedRay } from '../cluster/doctor';
import type { Logger } from '../log';
import { appRoot } from '../paths';
import { PYTHON_NO_BYTECODE, pythonEnvironment } from '../sidecar/environment';

export type ClusterInstaller = (options: ClusterInstallOptions) => Promise<{ python: string; version: string }>;

export interface ClusterInstallDeps {
  emit: (status: ClusterInstallStatus) => void;
  logger?: Logger;
  /** Tests: a stand-in for core.installCluster. */
  installer?: ClusterInstaller;
  /** Ray's version in the engine's environment, null when absent (default: cluster/doctor's installedRay). */
  probe?: () => Promise<string | null>;
  /** Ray has just been installed: the cluster backend restarts its drivers. */
  onInstalled?: () => void;
}

export interface ClusterInstall {
  /** The last known status (no process started). */
  status(): ClusterInstallStatus;
  /** Asks the environment again which Ray it has (not during an install); resolves with the status. */
  refresh(): Promise<ClusterInstallStatus>;
  /** Starts (or joins) an install; returns at once. Ray already there: nothing to do. */
  start(options?: { offlineDir?: string }): ClusterInstallStatus;
  /** The install in progress, if any (tests await it). */
  running(): Promise<void> | null;
  /** Ends an install in progress (the app quitting): pip's process tree is ended. */
  stop(): Promise<void>;
}

export function createClusterInstall(deps: ClusterInstallDeps): ClusterInstall {
  const installer = deps.installer ?? core.installCluster;
  const probe = deps.probe ?? installedRay;
  let installed: string | null = null;
  let error: ClusterInstallStatus['error'] = null;
  let progress: ClusterInstallStatus['progress'] = null;
  let run: Promise<void> | null = null;
  /** Set before the installer is called: its first progress comes before `run` is assigned. */
  let installing = false;
  let abort: AbortController | null = null;
  let lastEmit = 0;

  const status = (): ClusterInstallStatus => ({
    state: installing ? 'installing' : installed ? 'ready' : error ? 'failed' : 'absent',
    installed,
    sizeMb: core.DOWNLOAD_ESTIMATES_MB.cluster,
    progress: installing ? progress : null,
    error: installing ? null : error,
  });

  return {
    status,
    running: () => run,
    async refresh() {
      if (!installing) installed = await probe();
      return status();
    },
    async stop() {
      abort?.abort(new Error('the app is quitting'));
      await run;
    },
    start(options = {}) {
      if (installing || installed) return status();
      installing = true;
      abort = new AbortController();
      error = null;
      progress = { fraction: 0, message: 'Starting the Ray install…' };
      const { python } = pythonEnvironment();
      deps.logger?.info(`cluster: installing Ray into ${python}${options.offlineDir ? ` from ${options.offlineDir}` : ''}`);
      run = installer({
        python,
        requirements: join(appRoot(), 'python', 'requirements-cluster.txt'),
        offlineDir: options.offlineDir,
        env: { ...PYTHON_NO_BYTECODE },
        signal: abort.signal,
        onOutput: (line) => deps.logger?.debug(`cluster install: ${line}`),
        onProgress: (event) => {
          progress = { fraction: event.fraction, message: event.message };
          const now = Date.now();
          if (event.fraction === 0 || event.fraction === 1 || now - lastEmit >= 200) {
            lastEmit = now;
            deps.emit(status());
          }
        },
      })
        .then(({ version }) => {
          installed = version;
          deps.logger?.info(`cluster: Ray ${version} installed in ${python}`);
        })
        .catch((e: unknown) => {
          const pe = e as ProvisionError;
          if (pe.cancelled) return void deps.logger?.info('cluster: the Ray install was stopped');
          error = { message: pe.message ?? String(e), nextSteps: pe.nextSteps ?? [], detail: pe.detail ?? '' };
          deps.logger?.error(`cluster: the Ray install failed: ${error.message}\n${error.detail}`);
        })
        .finally(() => {
          installing = false;
          run = null;
          abort = null;
          deps.emit(status());
          if (installed) deps.onInstalled?.();
        });
      const started = status();
      deps.emit(started);
      return started;
    },
  };
}
