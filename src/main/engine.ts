import { join } from 'node:path';
import type { Track } from '../shared/domain';
import { SfaError } from '../shared/errors';
import { createApi, type Api } from './api';
import { openDatabase, type Db } from './db/connection';
import { migrate } from './db/migrate';
import { migrations } from './db/migrations';
import { EventBus } from './events';
import { ensureHome, homePaths, type HomePaths } from './home';
import { Importer, toAddResult } from './library/importer';
import { TrackRepository } from './library/tracks';
import { HomeLock } from './lock';
import { createLogger, type Logger } from './log';
import { appVersion } from './paths';
import { pythonEnvironment } from './sidecar/environment';
import { SidecarPool } from './sidecar/pool';
import { doctor } from './system/doctor';

export type Host = 'electron' | 'serve' | 'cli';

export interface EngineOptions {
  home: string;
  host: Host;
  /** Electron passes paths; the browser uploads files. */
  canPassPaths?: boolean;
  logger?: Logger;
  /** Open without taking the single-instance lock, read-only (for `sfa tracks` beside a running app). */
  readonly?: boolean;
}

export interface Engine {
  paths: HomePaths;
  db: Db;
  events: EventBus;
  tracks: TrackRepository;
  importer: Importer;
  sidecars: { probe: SidecarPool };
  api: Api;
  logger: Logger;
  close(): Promise<void>;
}

/** The composition root: one per process and data folder. Hosts adapt it; it knows no host. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const paths = homePaths(options.home);
  ensureHome(paths);
  const logger = options.logger ?? createLogger({ file: join(paths.logs, 'engine.log') });
  const lock = options.readonly ? null : HomeLock.acquire(paths.lock);
  let db: Db;
  try {
    db = openDatabase(paths.database, { readonly: options.readonly });
    if (!options.readonly) migrate(db, migrations);
  } catch (error) {
    lock?.release();
    if (options.readonly && /no such table|unable to open/i.test((error as Error).message)) {
      throw new SfaError('NOT_FOUND', `No library in ${paths.root} yet: add tracks first.`);
    }
    throw error;
  }

  const events = new EventBus();
  const tracks = new TrackRepository(db);
  const env = pythonEnvironment();
  const sidecarVars = { NUMBA_CACHE_DIR: join(paths.cache, 'numba') };
  const probe = new SidecarPool('probe', 1, { env, logger, vars: sidecarVars, args: ['--no-devices'] });
  const importer = new Importer(tracks, probe);

  const getTrack = (id: string): Track => {
    const track = tracks.get(id);
    if (!track) throw new SfaError('NOT_FOUND', `No track with id ${id}.`);
    return track;
  };

  const api = createApi(
    {
      'library.add': async ({ inputs }) => {
        if (options.readonly) throw new SfaError('UNSUPPORTED', 'The library is open read-only.');
        const result = await importer.add(inputs);
        const created = result.added.filter((a) => a.created).map((a) => a.track.id);
        if (created.length) events.emit('library:changed', { ids: created });
        return toAddResult(result);
      },
      'library.list': () => ({ tracks: tracks.list() }),
      'library.get': ({ id }) => getTrack(id),
      'system.doctor': () => doctor(probe),
      'system.info': () => ({
        version: appVersion(),
        home: paths.root,
        host: options.host,
        canPassPaths: options.canPassPaths ?? options.host !== 'serve',
      }),
    },
    logger,
  );

  let closed = false;
  return {
    paths,
    db,
    events,
    tracks,
    importer,
    sidecars: { probe },
    api,
    logger,
    async close() {
      if (closed) return;
      closed = true;
      await probe.close();
      db.close();
      lock?.release();
    },
  };
}
