import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../paths';

/**
 * Where the sidecar's Python lives.
 * - `SFA_PYTHON`: an explicit interpreter (tests, power users).
 * - dev checkout: `<repo>/python/.venv`, created by `npm install` (scripts/setup.mjs) from the
 *   pinned `python/requirements.txt`.
 * - otherwise (the packaged app): `<userData>/python/<lock-hash>/`, provisioned at first run by the
 *   same code (src/main/provision/ over scripts/provision/), registered here with
 *   `setProvisionedEnvironment` by the engine before it creates its sidecar pools.
 */
export interface PythonEnvironment {
  python: string;
  /** Folder holding the `sfa_sidecar` package (added to PYTHONPATH). */
  packageRoot: string;
  /** The environment's bin folder, where spotdl and yt-dlp live. */
  binDir: string;
}

/**
 * Environment for every Python process started from the app's own sources (the sidecar, setup's
 * checks): no bytecode written next to them. In an installed app they lie in the signed bundle
 * (macOS: writing there breaks the signature) or a read-only mount (AppImage, Program Files).
 */
export const PYTHON_NO_BYTECODE = { PYTHONDONTWRITEBYTECODE: '1' } as const;

let provisioned: string | null = null;

/** The first-run environment folder for this process (set by the engine's setup module). */
export function setProvisionedEnvironment(envDir: string | null): void {
  provisioned = envDir;
}

export function pythonEnvironment(): PythonEnvironment {
  const root = appRoot();
  const packageRoot = join(root, 'python');
  const explicit = process.env.SFA_PYTHON;
  const isWindows = process.platform === 'win32';
  const devVenv = join(packageRoot, '.venv');
  const devPython = join(devVenv, isWindows ? 'Scripts/python.exe' : 'bin/python');
  const venv = provisioned && !existsSync(devPython) ? provisioned : devVenv;
  const binDir = isWindows ? join(venv, 'Scripts') : join(venv, 'bin');
  const python = explicit ?? join(binDir, isWindows ? 'python.exe' : 'python');
  return { python, packageRoot, binDir: explicit ? join(explicit, '..') : binDir };
}

export function pythonExists(env: PythonEnvironment): boolean {
  return existsSync(env.python);
}
