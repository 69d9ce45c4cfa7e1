import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { appRoot } from '../paths';

/**
 * Where the sidecar's Python lives.
 * - `SFA_PYTHON`: an explicit interpreter (tests, power users).
 * - dev checkout: `<repo>/python/.venv`, created by `npm install` (scripts/setup.mjs) from the
 *   pinned `python/requirements.txt`.
 * - packaged app (planned, issue #9): `<userData>/python/<lock-hash>/`, provisioned at first run
 *   by the same setup code, so no system Python is needed.
 */
export interface PythonEnvironment {
  python: string;
  /** Folder holding the `sfa_sidecar` package (added to PYTHONPATH). */
  packageRoot: string;
  /** The environment's bin folder, where spotdl and yt-dlp live. */
  binDir: string;
}

export function pythonEnvironment(): PythonEnvironment {
  const root = appRoot();
  const packageRoot = join(root, 'python');
  const explicit = process.env.SFA_PYTHON;
  const venv = join(packageRoot, '.venv');
  const isWindows = process.platform === 'win32';
  const binDir = isWindows ? join(venv, 'Scripts') : join(venv, 'bin');
  const python = explicit ?? join(binDir, isWindows ? 'python.exe' : 'python');
  return { python, packageRoot, binDir: explicit ? join(explicit, '..') : binDir };
}

export function pythonExists(env: PythonEnvironment): boolean {
  return existsSync(env.python);
}
