import { mkdirSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join, resolve } from 'node:path';

/** Everything the app stores lives under one folder, `home` (`--home`, `SFA_HOME`). */
export interface HomePaths {
  root: string;
  database: string;
  lock: string;
  media: string;
  uploads: string;
  downloads: string;
  stems: string;
  models: string;
  logs: string;
  cache: string;
  exports: string;
}

/** The desktop app's data folder, which is also the CLI's default so both see one library. */
export function defaultHome(): string {
  if (process.env.SFA_HOME) return resolve(process.env.SFA_HOME);
  const home = homedir();
  switch (platform()) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'Sound Forge Alchemy');
    case 'win32':
      return join(process.env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'Sound Forge Alchemy');
    default:
      return join(process.env.XDG_DATA_HOME ?? join(home, '.local', 'share'), 'sound-forge-alchemy');
  }
}

export function homePaths(root: string): HomePaths {
  const r = resolve(root);
  const media = join(r, 'media');
  return {
    root: r,
    database: join(r, 'library.sqlite'),
    lock: join(r, '.lock'),
    media,
    uploads: join(media, 'uploads'),
    downloads: join(media, 'downloads'),
    stems: join(media, 'stems'),
    models: join(r, 'models'),
    logs: join(r, 'logs'),
    cache: join(r, 'cache'),
    exports: join(r, 'exports'),
  };
}

export function ensureHome(paths: HomePaths): void {
  for (const dir of [paths.root, paths.media, paths.uploads, paths.downloads, paths.stems, paths.models, paths.logs, paths.cache]) {
    mkdirSync(dir, { recursive: true });
  }
}
