import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The application root: the repository in a dev checkout, or the packaged app's resources folder
 * (the Electron host sets SFA_APP_ROOT to `process.resourcesPath`). Found by walking up from this
 * module to our package.json, so it works from `src/` (tests), `out/` (built) and bundles alike.
 */
export function appRoot(): string {
  if (process.env.SFA_APP_ROOT) return resolve(process.env.SFA_APP_ROOT);
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'sound-forge-alchemy') return dir;
      } catch {
        // not ours: keep walking
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the Sound Forge Alchemy application root (set SFA_APP_ROOT)');
    dir = parent;
  }
}

export function appVersion(): string {
  try {
    return (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}
