import { availableParallelism, homedir } from 'node:os';
import { join } from 'node:path';
import type { PipelineStep, TrackDetail } from '../shared/domain';
import { PIPELINE_STEPS } from '../shared/domain';
import { SfaError } from '../shared/errors';
import { createApi, type Api } from './api';
import { analysisSummary, jobInfo, queueStats } from './api/views';
import { openDatabase, type Db } from './db/connection';
import { migrate } from './db/migrate';
import { migrations } from './db/migrations';
import { EventBus } from './events';
import { ensureHome, homePaths, type HomePaths } from './home';
import { createScheduler, DEFAULTS, type AnyWorker, type JobSpec, type Scheduler } from './jobs';
import { AnalysisRepository } from './library/analyses';
import { Importer, toAddResult } from './library/importer';
import { StemRepository } from './library/stems';
import { TrackRepository } from './library/tracks';
import { HomeLock } from './lock';
import { createLogger, type Logger } from './log';
import { ModelStore, type ModelStoreOptions } from './models';
import { appVersion } from './paths';
import { pythonEnvironment } from './sidecar/environment';
import { SidecarPool } from './sidecar/pool';
import { doctor } from './system/doctor';
import { analysisWorker } from './workers/analyze';
import type { WorkerDeps } from './workers/deps';
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
  /** Extra workers (tests). */
  workers?: AnyWorker[];
  /** Model store settings: a mirror `baseUrl`, an injected `fetch` (tests), retry timing. */
  models?: Omit<ModelStoreOptions, 'dir' | 'onProgress' | 'verifyLoad' | 'logger'>;
}

export interface Engine {
  paths: HomePaths;
  db: Db;
  events: EventBus;
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  stems: StemRepository;
  importer: Importer;
  scheduler: Scheduler;
  sidecars: { probe: SidecarPool; analysis: SidecarPool; processing: SidecarPool };
  models: ModelStore;
  api: Api;
  logger: Logger;
  /** Enqueue the pipeline for tracks (used by library.add, the CLI and the UI). */
  enqueuePipeline(trackIds: string[], steps?: readonly PipelineStep[], separation?: Partial<Omit<SeparateArgs, 'trackId'>>): Promise<number[]>;
  trackDetail(id: string): TrackDetail;
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
  const analyses = new AnalysisRepository(db);
  const stems = new StemRepository(db);
  const queues = { ...DEFAULTS.queues, ...options.queues };
  const env = pythonEnvironment();
  // numba's JIT cache is per user, not per library: every library (and test home) shares warm code.
  const vars = { NUMBA_CACHE_DIR: process.env.NUMBA_CACHE_DIR ?? join(userCacheDir(), 'sfa', 'numba') };
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
      await sidecars.processing.run('warm', { model: name, repo, device: 'cpu' }, { timeoutMs: 10 * 60_000 });
    },
  });
  const deps: WorkerDeps = { paths, tracks, analyses, stems, sidecars, logger, models };
  const scheduler = createScheduler({
    db,
    queues,
    workers: [downloadWorker(deps), expandWorker(deps), analysisWorker(deps), processingWorker(deps), ...(options.workers ?? [])],
    logger,
  });
  watchLinkTracks(scheduler, tracks);
  const importer = new Importer(tracks, sidecars.probe);
  const separationDefaults = { ...DEFAULT_SEPARATION, ...options.separation };

  // Scheduler events become contract events; finished pipeline steps change the library.
  scheduler.on('job:state', ({ job }) => {
    events.emit('job:changed', { job: jobInfo(job) });
    if (job.trackId && (job.state === 'completed' || job.state === 'discarded')) events.emit('library:changed', { ids: [job.trackId] });
  });
  scheduler.on('job:progress', (p) => {
    const job = scheduler.getJob(p.id);
    events.emit('job:progress', { id: p.id, trackId: job?.trackId ?? null, pct: p.pct, message: p.message });
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
      if (track) specs.push(...pipelineSpecs(track, { steps, separation: { ...separationDefaults, ...separation } }));
    }
    if (!specs.length) return [];
    return (await scheduler.insertAll(specs)).map((r) => r.job.id);
  };

  const readonlyGuard = () => {
    if (options.readonly) throw new SfaError('UNSUPPORTED', 'The library is open read-only.');
  };

  const api = createApi(
    {
      'library.add': async ({ inputs, steps, model }) => {
        readonlyGuard();
        const result = await importer.add(inputs);
        const created = result.added.filter((a) => a.created).map((a) => a.track.id);
        if (created.length) {
          await enqueuePipeline(created, steps ?? PIPELINE_STEPS, model ? { model } : {});
          events.emit('library:changed', { ids: created });
        }
        return toAddResult(result);
      },
      'library.list': () => {
        const current = analyses.currentByTrack();
        const stemSets = stems.latestSetByTrack();
        return {
          tracks: tracks.list().map((t) => {
            const a = current.get(t.id);
            return { ...t, analysis: a ? analysisSummary(a) : null, stemCount: Object.keys(stemSets.get(t.id)?.stems ?? {}).length };
          }),
        };
      },
      'library.get': ({ id }) => trackDetail(id),
      'jobs.list': (p) => ({
        jobs: scheduler.listJobs({ state: p?.state, queue: p?.queue, trackId: p?.trackId, limit: p?.limit ?? 200 }).map(jobInfo),
      }),
      'jobs.get': ({ id }) => {
        const job = scheduler.getJob(id);
        if (!job) throw new SfaError('NOT_FOUND', `No job with id ${id}.`);
        return jobInfo(job);
      },
      'jobs.cancel': ({ id }) => (readonlyGuard(), jobInfo(scheduler.cancel(id))),
      'jobs.retry': ({ id }) => (readonlyGuard(), jobInfo(scheduler.retry(id))),
      'queues.list': () => ({ queues: queueStats(scheduler.stats()) }),
      'queues.pause': ({ queue }) => (scheduler.pauseQueue(queue), { queues: queueStats(scheduler.stats()) }),
      'queues.resume': ({ queue }) => (scheduler.resumeQueue(queue), { queues: queueStats(scheduler.stats()) }),
      'queues.scale': ({ queue, limit }) => {
        scheduler.scaleQueue(queue, limit);
        if (queue === 'analysis') sidecars.analysis.resize(limit);
        if (queue === 'processing') sidecars.processing.resize(limit);
        return { queues: queueStats(scheduler.stats()) };
      },
      'system.doctor': () => doctor(sidecars.probe),
      'models.list': () => ({ dir: models.dir, models: models.list() }),
      'models.download': async ({ name }) => {
        readonlyGuard();
        const downloaded = !models.isInstalled(name);
        return { model: await models.download(name), downloaded };
      },
      'models.import': async ({ path, name }) => {
        readonlyGuard();
        const imported = await models.import(path, { name });
        return { imported, models: models.list().filter((m) => imported.includes(m.name)) };
      },
      'models.remove': ({ name }) => (readonlyGuard(), models.remove(name)),
      'system.info': () => ({
        version: appVersion(),
        home: paths.root,
        host: options.host,
        canPassPaths: options.canPassPaths ?? options.host !== 'serve',
      }),
    },
    logger,
  );

  if (options.runQueues) scheduler.start();

  let closed = false;
  return {
    paths,
    db,
    events,
    tracks,
    analyses,
    stems,
    importer,
    scheduler,
    sidecars,
    models,
    api,
    logger,
    enqueuePipeline,
    trackDetail,
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
