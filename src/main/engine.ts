import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import type { Settings, TrackDetail } from '../shared/domain';
import { PIPELINE_STEPS } from '../shared/domain';
import { SfaError } from '../shared/errors';
import { createApi, type Api } from './api';
import { createHandlers } from './api/handlers';
import type { Services } from './api/services';
import { jobInfo, queueStats } from './api/views';
import { openDatabase, type Db } from './db/connection';
import { migrate } from './db/migrate';
import { backupBeforeMigrate, databaseOpenError } from './db/safety';
import { migrations } from './db/migrations';
import { EventBus } from './events';
import { ensureHome, homePaths } from './home';
import { createScheduler, DEFAULTS, type AnyWorker, type JobSpec } from './jobs';
import { AnalysisRepository } from './library/analyses';
import { Importer } from './library/importer';
import { StemRepository } from './library/stems';
import { TrackRepository } from './library/tracks';
import { HomeLock } from './lock';
import { createLogger, type Logger } from './log';
import { ModelStore, type ModelStoreOptions } from './models';
import { SettingsRepository, type StoredSettings } from './settings';
import { pythonEnvironment } from './sidecar/environment';
import { ffmpegVars, setConfiguredFfmpeg } from './sidecar/ffmpeg';
import { SidecarPool } from './sidecar/pool';
import { createSetup, type Provisioner } from './provision';
import { analysisWorker } from './workers/analyze';
import type { WorkerDeps } from './workers/deps';
import { GpuGate } from './workers/gpu-gate';
import { downloadWorker, watchLinkTracks } from './workers/download';
import { expandWorker } from './workers/expand';
import { pipelineSpecs } from './workers/pipeline';
import { processingWorker, type SeparateArgs } from './workers/separate';

export type Host = 'electron' | 'serve' | 'cli';

function userCacheDir(): string {
  if (process.platform === 'win32') return process.env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches');
  return process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
}

export interface EngineOptions {
  home: string;
  host: Host;
  /** Electron passes paths; the browser uploads files. */
  canPassPaths?: boolean;
  logger?: Logger;
  /**
   * Work the queues in this process (the app, `sfa serve`, `sfa run`). Requires the data
   * folder's single-instance lock: two processes running jobs would rescue each other's work.
   * Without it the engine only reads and enqueues, which is safe beside a running app.
   */
  runQueues?: boolean;
  /** Open read-only (listing beside a running app). */
  readonly?: boolean;
  /** Queue concurrency; defaults download 3, processing 2, analysis 2. */
  queues?: Record<string, number>;
  /** Defaults for separation jobs the pipeline enqueues. */
  separation?: Partial<Omit<SeparateArgs, 'trackId'>>;
  /** First-run setup: a fake provisioner (tests); default the shared core in scripts/provision/. */
  provisioner?: Provisioner;
  /** Extra workers (tests). */
  workers?: AnyWorker[];
  /** Model store settings: a mirror `baseUrl`, an injected `fetch` (tests), retry timing. */
  models?: Omit<ModelStoreOptions, 'dir' | 'onProgress' | 'verifyLoad' | 'logger'>;
}

/** The engine's parts that hosts and tests use directly, beside the contract's `api`. */
const ENGINE_PARTS = ['paths', 'db', 'events', 'logger', 'tracks', 'analyses', 'stems', 'importer', 'scheduler', 'sidecars', 'models', 'enqueuePipeline', 'trackDetail'] as const;

/** `enqueuePipeline` enqueues the pipeline for tracks (library.add, the CLI and the UI use it). */
export interface Engine extends Pick<Services, (typeof ENGINE_PARTS)[number]> {
  api: Api;
  /** The user settings (migration 006) as the engine applies them now. */
  settings(): Settings;
  /** Start the sidecars and compile librosa's JIT now, so the first real job finds them warm. */
  prewarm(): Promise<void>;
  close(): Promise<void>;
}

export const DEFAULT_SEPARATION: Omit<SeparateArgs, 'trackId'> = { model: 'htdemucs', device: 'auto', format: 'wav', shifts: 1, overlap: 0.25 };

/** The composition root: one per process and data folder. Hosts adapt it; it knows no host. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  const paths = homePaths(options.home);
  ensureHome(paths);
  const logger = options.logger ?? createLogger({ file: join(paths.logs, 'engine.log') });
  const lock = options.runQueues ? HomeLock.acquire(paths.lock) : null;
  let db: Db | undefined;
  try {
    db = openDatabase(paths.database, { readonly: options.readonly });
    if (!options.readonly) {
      // A copy of the data before a schema upgrade changes it (db/safety.ts keeps the newest 5).
      const backup = await backupBeforeMigrate(db, migrations, join(paths.root, 'backups'));
      if (backup) logger.info(`database backed up before migrating: ${backup}`);
      migrate(db, migrations);
    }
  } catch (error) {
    db?.close();
    lock?.release();
    if (options.readonly && /no such table|unable to open/i.test((error as Error).message)) {
      throw new SfaError('NOT_FOUND', `No library in ${paths.root} yet: add tracks first.`);
    }
    throw databaseOpenError(error, paths.root);
  }

  const events = new EventBus(logger);
  const tracks = new TrackRepository(db);
  const analyses = new AnalysisRepository(db);
  const stems = new StemRepository(db);
  const settingsRepo = options.readonly ? null : new SettingsRepository(db);
  // Precedence: stored settings, then SFA_DEFAULT_MODEL (e2e: `dsp`, no download), then built-ins.
  const envModel = process.env.SFA_DEFAULT_MODEL?.trim();
  const settingDefaults: StoredSettings = {
    defaultModel: (options.separation?.model as string | undefined) ?? (envModel || String(DEFAULT_SEPARATION.model)),
    device: (options.separation?.device as Settings['device'] | undefined) ?? 'auto',
    format: (options.separation?.format as Settings['format'] | undefined) ?? 'wav',
    autoPipeline: true,
    concurrency: { ...DEFAULTS.queues },
    toolPaths: { ffmpeg: null },
  };
  let stored = settingsRepo?.read(settingDefaults) ?? settingDefaults;
  const queues = { ...DEFAULTS.queues, ...stored.concurrency, ...options.queues };
  setConfiguredFfmpeg(stored.toolPaths.ffmpeg);
  // before the sidecar environment is resolved: it registers the first-run environment folder
  const setup = createSetup({ home: paths.root, modelsDir: paths.models, logger, provisioner: options.provisioner, emit: (p) => events.emit('setup:progress', p) });
  const env = pythonEnvironment();
  // numba's JIT cache is per user, not per library: every library (and test home) shares warm code.
  const vars = { NUMBA_CACHE_DIR: process.env.NUMBA_CACHE_DIR ?? join(userCacheDir(), 'sfa', 'numba'), ...ffmpegVars() };
  // Two processing sidecars share the cores instead of each taking all of them.
  const threads = String(Math.max(1, Math.floor(availableParallelism() / Math.max(1, queues.processing ?? 2))));
  const sidecars = {
    probe: new SidecarPool('probe', 1, { env, logger, vars, args: ['--no-devices'] }),
    analysis: new SidecarPool('analysis', queues.analysis ?? 2, { env, logger, args: ['--no-devices'], vars: { ...vars, OMP_NUM_THREADS: threads } }),
    processing: new SidecarPool('processing', queues.processing ?? 2, {
      env,
      logger,
      vars: { ...vars, OMP_NUM_THREADS: threads, SFA_SIDECAR_CONCURRENCY: String(queues.processing ?? 2) },
    }),
  };
  const models = new ModelStore({
    ...options.models,
    dir: paths.models,
    logger,
    onProgress: (p) => events.emit('models:progress', p),
    // An imported model is loaded once in a processing sidecar (it stays warm there for the next separation).
    verifyLoad: async (name, repo) => {
      try {
        await sidecars.processing.run('warm', { model: name, repo, device: 'cpu' }, { timeoutMs: 10 * 60_000 });
      } catch (error) {
        // Without a Python environment only the file checks apply; the separation reports the rest.
        if ((error as SfaError).code === 'SIDECAR_UNAVAILABLE') logger.warn(`models: ${name} imported unverified: ${(error as Error).message}`);
        else throw error;
      }
    },
  });
  const deps: WorkerDeps = { paths, tracks, analyses, stems, sidecars, logger, models, gpu: new GpuGate() };
  const scheduler = createScheduler({
    db,
    queues,
    workers: [downloadWorker(deps), expandWorker(deps), analysisWorker(deps), processingWorker(deps), ...(options.workers ?? [])],
    logger,
  });
  watchLinkTracks(scheduler, tracks);
  const importer = new Importer(tracks, sidecars.probe);
  const separationDefaults = () => ({ ...DEFAULT_SEPARATION, ...options.separation, model: stored.defaultModel, device: stored.device, format: stored.format });
  const currentSettings = (): Settings => ({ ...stored, concurrency: { ...stored.concurrency, ...Object.fromEntries(queueStats(scheduler.stats()).map((q) => [q.name, q.limit])) }, libraryFolder: paths.root });
  const scaleQueue = (queue: string, limit: number) => {
    scheduler.scaleQueue(queue, limit);
    if (queue === 'analysis') sidecars.analysis.resize(limit);
    if (queue === 'processing') sidecars.processing.resize(limit);
  };

  // Scheduler events become contract events; finished pipeline steps change the library.
  scheduler.on('job:state', ({ job }) => {
    events.emit('job:changed', { job: jobInfo(job) });
    if (job.trackId && (job.state === 'completed' || job.state === 'discarded')) events.emit('library:changed', { ids: [job.trackId] });
  });
  scheduler.on('job:progress', (p) => {
    const job = scheduler.getJob(p.id);
    events.emit('job:progress', { id: p.id, trackId: job?.trackId ?? null, percent: p.percent, message: p.message });
  });
  scheduler.on('queue:change', () => events.emit('queues:changed', { queues: queueStats(scheduler.stats()) }));
  // Telemetry goes to the engine log: one line per attempt with its timings, one per exception.
  scheduler.on('job:stop', ({ job, durationMs, queueTimeMs, state }) =>
    logger.info(`job ${job.id} ${job.worker} attempt ${job.attempt} -> ${state} in ${durationMs} ms (queued ${queueTimeMs} ms)`),
  );
  scheduler.on('job:exception', ({ job, error, attempt, kind }) =>
    logger.warn(`job ${job.id} ${job.worker} attempt ${attempt} ${kind}: ${error.code} ${error.message}`),
  );

  const trackDetail = (id: string): TrackDetail => {
    const track = tracks.get(id);
    if (!track) throw new SfaError('NOT_FOUND', `No track with id ${id}.`);
    const latest = stems.forTrack(id);
    const first = latest[0];
    const set = first ? latest.filter((s) => s.model === first.model && s.optionsKey === first.optionsKey) : [];
    return {
      ...track,
      analysis: analyses.current(id)?.result ?? null,
      stems: set.length ? Object.fromEntries(set.map((s) => [s.stem, s.path])) : null,
      stemModel: first?.model ?? null,
    };
  };

  const enqueuePipeline: Engine['enqueuePipeline'] = async (trackIds, steps = PIPELINE_STEPS, separation = {}) => {
    const specs: JobSpec<unknown>[] = [];
    for (const id of trackIds) {
      const track = tracks.get(id);
      if (track) specs.push(...pipelineSpecs(track, { steps, separation: { ...separationDefaults(), ...separation } }));
    }
    if (!specs.length) return [];
    return (await scheduler.insertAll(specs)).map((r) => r.job.id);
  };

  const services: Services = {
    host: options.host,
    canPassPaths: options.canPassPaths ?? options.host !== 'serve',
    readonly: Boolean(options.readonly),
    paths,
    db,
    events,
    logger,
    tracks,
    analyses,
    stems,
    importer,
    scheduler,
    sidecars,
    models,
    setup,
    settings: {
      current: currentSettings,
      stored: () => stored,
      save(next) {
        settingsRepo!.write(next);
        const ffmpegChanged = next.toolPaths.ffmpeg !== stored.toolPaths.ffmpeg;
        stored = next;
        if (ffmpegChanged) {
          // applied live: new downloads read it at once, sidecars are replaced as they come idle
          setConfiguredFfmpeg(next.toolPaths.ffmpeg);
          for (const pool of Object.values(sidecars)) pool.updateVars(ffmpegVars());
        }
      },
    },
    peaksCache: new Map(),
    enqueuePipeline,
    trackDetail,
    scaleQueue,
  };
  const api = createApi(createHandlers(services), logger);

  if (options.runQueues) scheduler.start();

  let closed = false;
  return {
    ...(Object.fromEntries(ENGINE_PARTS.map((key) => [key, services[key]])) as Pick<Services, (typeof ENGINE_PARTS)[number]>),
    api,
    settings: () => currentSettings(),
    async prewarm() {
      const started = Date.now();
      await Promise.allSettled([sidecars.analysis.run('analyze_warm', {}), sidecars.processing.warm()]).then((results) => {
        for (const r of results) if (r.status === 'rejected') logger.warn(`prewarm: ${(r.reason as Error).message}`);
      });
      logger.info(`sidecars warm in ${Date.now() - started} ms`);
    },
    async close() {
      if (closed) return;
      closed = true;
      if (options.runQueues) await scheduler.stop({ graceMs: 2000 });
      await Promise.all(Object.values(sidecars).map((p) => p.close()));
      db.close();
      lock?.release();
    },
  };
}
