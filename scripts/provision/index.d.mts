/** Types of the provisioning core (scripts/provision/index.mjs), for the TypeScript engine. */
export type StepName = 'python' | 'venv' | 'packages' | 'models' | 'verify';
export declare const STEPS: readonly StepName[];
export declare const STEP_TITLES: Record<StepName, string>;
export declare const STATE_FILE: string;
export declare const PYTHON_MINOR: string;
export declare const DOWNLOAD_ESTIMATES_MB: Record<string, number> & { runtime: number; cluster: number };

export interface ProvisionEvent {
  step: StepName;
  index: number;
  count: number;
  /** Progress within the step, 0..1. */
  fraction: number;
  /** Progress over all steps, 0..1. */
  overall: number;
  message: string;
  bytes?: number;
  totalBytes?: number | null;
}

export interface RuntimeAsset {
  url: string;
  sha256: string;
}

export interface ProvisionOptions {
  /** The virtual environment folder (holds the state file). */
  envDir: string;
  /** The pinned lock (requirements) file. */
  lockFile: string;
  /** Folder holding the `sfa_sidecar` package (PYTHONPATH for the verify step). */
  packageRoot: string;
  /** Interpreters to try first: a command, or [command, ...prefixArgs] (e.g. ['py', '-3.11']). */
  pythonCandidates?: (string | string[])[];
  /** A relocatable CPython: the bundled copy, where to unpack a fetched one, and the pinned archive. */
  /**
   * A relocatable CPython. `dir`: its per-user home (a copy of `bundledDir`, or an unpacked download);
   * the venv is always made from `dir`, never from inside the app (`bundledDir`).
   */
  runtime?: { dir: string; bundledDir?: string; asset?: RuntimeAsset | null; version?: string };
  /** An offline install folder: `wheels/` (pip --no-index --find-links), `models/`, the runtime archive. */
  offlineDir?: string;
  /** Never download (the offline path). */
  offlineOnly?: boolean;
  /** The model store folder the `models` step copies into. */
  modelsDir?: string;
  /** Redo every step. */
  force?: boolean;
  /** Steps not to run now (they stay pending). */
  skip?: StepName[];
  /** Who calls: `dev` (npm install) or `app` (first run); only changes the advice in errors. */
  caller?: 'dev' | 'app';
  verifyEnv?: Record<string, string>;
  /** More requirement files installed with the lock (dev: python/requirements-dev.txt); part of the key. */
  extraRequirements?: string[];
  /** How pip is run with the venv's python (default `['-m', 'pip']`; tests put a stand-in here). */
  pipCommand?: string[];
  /** Stops the run: the running command's process tree is ended, the step stays pending (ProvisionError with `cancelled`). */
  signal?: AbortSignal;
  fetch?: typeof fetch;
  onProgress?: (event: ProvisionEvent) => void;
  /** Each line of the tools' output (pip, venv). */
  onOutput?: (line: string) => void;
}

export interface ProvisionResult {
  envDir: string;
  python: string;
  lockHash: string;
  ran: StepName[];
  skipped: StepName[];
}

export declare class ProvisionError extends Error {
  constructor(step: string, message: string, nextSteps: string[], detail?: string);
  /** `cluster`: the optional Ray install (installCluster), outside the setup's steps. */
  step: StepName | 'cluster';
  nextSteps: string[];
  detail: string;
  /** Set when the run was stopped (signal), not failed. */
  cancelled?: boolean;
}

export interface EnvironmentStatus {
  envDir: string;
  ready: boolean;
  done: StepName[];
  failed: { step: StepName; message: string; at: string } | null;
}

export declare function provision(options: ProvisionOptions): Promise<ProvisionResult>;
export declare function environmentStatus(envDir: string, lockText: string): EnvironmentStatus;
export declare function readState(envDir: string): unknown;
export declare function sha256(data: string | Uint8Array): string;
export declare function lockHash(lockText: string): string;
export declare function userEnvDir(root: string, lockText: string, platform?: string): string;
export declare function environmentRoot(userDataDir: string, platform?: string, env?: Record<string, string | undefined>): string;
export declare function venvIntact(envDir: string): boolean;
export declare function probePython(python: string, prefixArgs?: string[]): { version: string; executable: string } | null;
export declare function copyRuntime(fromDir: string, dest: string): void;
export declare function cancelledError(step: StepName): ProvisionError;
export declare const REQUIRED_IMPORTS: string[];
export declare const STEP_DEPENDS: Record<StepName, StepName[]>;
export declare function dependentsOf(step: StepName): StepName[];
export declare function envLockPath(envDir: string): string;
export declare function acquireEnvLock(
  envDir: string,
  options?: { signal?: AbortSignal; onWait?: (holder: { pid: number }) => void; onTakeover?: (holder: { pid: number }, reason: string) => void; staleMs?: number; pollMs?: number; heartbeatMs?: number },
): Promise<{ release(): void; setChild(pid: number | null): void }>;
export declare function runCommand(
  cmd: string,
  args: string[],
  options?: { env?: Record<string, string>; cwd?: string; onLine?: (line: string) => void; signal?: AbortSignal; onSpawn?: (pid: number) => void },
): Promise<{ code: number; tail: string[]; aborted: boolean }>;
export declare function venvPython(envDir: string): string;
export declare function venvBin(envDir: string): string;
export declare function detectAccelerator(platform?: string, arch?: string): 'cuda' | 'mps' | 'cpu' | string;
export declare function selectLock(
  locksDir: string,
  options?: { platform?: string; arch?: string; accelerator?: string },
): { name: string; file: string; text: string | null; accelerator: string };
export declare function runtimeAsset(runtimeJson: unknown, platform?: string, arch?: string): RuntimeAsset | null;
export declare function runtimePython(runtimeDir: string): string;
export declare function pythonVersion(python: string, prefixArgs?: string[]): string | null;
export declare function download(
  url: string,
  dest: string,
  options?: { sha256?: string; fetchImpl?: typeof fetch; onBytes?: (bytes: number, total: number | null) => void },
): Promise<string>;
export declare function sidecarDoctor(
  python: string,
  packageRoot: string,
  options?: { timeoutMs?: number; env?: Record<string, string> },
): Promise<{ versions: Record<string, string | null>; devices: unknown[]; ffmpeg: string }>;
export declare function lockName(platform: string, arch: string, accelerator: string): string;
export declare function renderLock(name: string, requirementsText: string): string;
export declare function renderLocks(requirementsText: string): Record<string, string>;
export interface LockTarget {
  os: string;
  arch: string;
  macos?: string;
}
export declare const LOCK_VARIANTS: Record<string, { description: string; targets: LockTarget[] }>;
export declare const TARGETS: Record<string, LockTarget[]>;
export declare const CUDA_BUILDS: Record<string, { minDriver: number; minCompute: number }>;
export declare function cudaBuildFor(driverVersion: string, computeCapability: string): string | null;
export declare function lockInstallArgs(lockText: string): string[];
export declare function parseLock(text: string): { indexes: string[]; pins: { name: string; version: string }[] };
export declare function macosVersion(platform?: string, release?: string): string | null;

/** Progress of installCluster: the packages step's shape, as a one-step run named `cluster`. */
export interface ClusterInstallEvent extends Omit<ProvisionEvent, 'step'> {
  step: 'cluster';
}

export interface ClusterInstallOptions {
  /** The engine environment's interpreter (the sidecars' own: SFA_PYTHON, python/.venv or the provisioned env). */
  python: string;
  /** python/requirements-cluster.txt: Ray and every dependency the platform locks lack (installed with --no-deps). */
  requirements: string;
  /** An offline install folder: its `wheels/` (or the folder itself) instead of PyPI. */
  offlineDir?: string;
  /** How pip is run with `python` (default `['-m', 'pip']`; tests put a stand-in here). */
  pipCommand?: string[];
  env?: Record<string, string>;
  /** Stops the install: pip's process tree is ended (ProvisionError with `cancelled`). */
  signal?: AbortSignal;
  onProgress?: (event: ClusterInstallEvent) => void;
  /** Each line of pip's output. */
  onOutput?: (line: string) => void;
}

/** Installs the pinned Ray into `python`'s environment and checks that it imports; resolves with its version. */
export declare function installCluster(options: ClusterInstallOptions): Promise<{ python: string; version: string }>;
