import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { availableParallelism, homedir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Peaks, PipelineStep, Settings, TrackDetail } from '../shared/domain';
import { PIPELINE_STEPS } from '../shared/domain';
import { SfaError } from '../shared/errors';
import { createApi, type Api } from './api';
import { jobInfo, queueStats } from './api/views';
import { openDatabase, type Db } from './db/connection';
import { migrate } from './db/migrate';
import { backupBeforeMigrate, databaseOpenError } from './db/safety';
import { migrations } from './db/migrations';
import { EventBus } from './events';
import { ensureHome, homePaths, type HomePaths } from './home';
import { createScheduler, DEFAULTS, type AnyWorker, type JobSpec, type Scheduler } from './jobs';
import { AnalysisRepository } from './library/analyses';
import { exportAnalysis } from './library/export';
import { Importer, toAddResult } from './library/importer';
import { StemRepository } from './library/stems';
import { TrackRepository } from './library/tracks';
import { HomeLock } from './lock';
import { createLogger, type Logger } from './log';
import { ModelStore, type ModelStoreOptions } from './models';
import { appVersion } from './paths';
import { SettingsRepository, type StoredSettings } from './settings';
import { pythonEnvironment } from './sidecar/environment';
import { SidecarPool } from './sidecar/pool';
import { doctor } from './system/doctor';
import { diagnosticsText } from './system/diagnostics';
import { createSetup, type Provisioner } from './provision';
import { analysisWorker } from './workers/analyze';
import type { WorkerDeps } from './workers/deps';
import { GpuGate } from './workers/gpu-gate';
import { downloadWorker, watchLinkTracks } from './workers/download';
import { expandWorker } from './workers/expand';
import { pipelineSpecs } from './workers/pipeline';
import { processingWorker, type SeparateArgs } from './workers/separate';
import { bundledFfmpeg } from './workers/tool-process';

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

  const events = new EventBus();
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
  if (stored.toolPaths.ffmpeg && !process.env.SFA_FFMPEG) process.env.SFA_FFMPEG = stored.toolPaths.ffmpeg;
  // before the sidecar environment is resolved: it registers the first-run environment folder
  const setup = createSetup({ home: paths.root, modelsDir: paths.models, logger, provisioner: options.provisioner, emit: (p) => events.emit('setup:progress', p) });
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
  const peaksCache = new Map<string, Peaks>();
  const PEAKS_CACHE_MAX = 256;
  const runFile = promisify(execFile);

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
      if (track) specs.push(...pipelineSpecs(track, { steps, separation: { ...separationDefaults(), ...separation } }));
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
          await enqueuePipeline(created, steps ?? (stored.autoPipeline ? PIPELINE_STEPS : []), model ? { model } : {});
          events.emit('library:changed', { ids: created });
        }
        return toAddResult(result);
      },
      'library.list': () => {
        const summaries = analyses.summaries();
        const stemSets = stems.latestSetByTrack();
        const exists = new Map<string, boolean>();
        const onDisk = (path: string) => exists.get(path) ?? (exists.set(path, existsSync(path)), exists.get(path)!);
        return {
          tracks: tracks.list().map((t) => {
            // A file moved or deleted outside the app says so (one stat per ready track).
            const status = t.status === 'ready' && t.path && !onDisk(t.path) ? 'missing' : t.status;
            return { ...t, status, analysis: summaries.get(t.id) ?? null, stemCount: Object.keys(stemSets.get(t.id)?.stems ?? {}).length };
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
        scaleQueue(queue, limit);
        return { queues: queueStats(scheduler.stats()) };
      },
      'library.remove': ({ ids }) => {
        readonlyGuard();
        const removed: string[] = [];
        for (const id of ids) {
          if (!tracks.get(id)) continue;
          for (const job of scheduler.listJobs({ trackId: id, state: ['scheduled', 'available', 'executing', 'retryable'], limit: 1000 })) {
            try {
              scheduler.cancel(job.id, 'the track was removed');
            } catch {
              // finished meanwhile
            }
          }
          removed.push(id);
        }
        // Tracks only: analysis and stem rows go with them (ON DELETE CASCADE).
        const del = db.prepare('DELETE FROM tracks WHERE id = ?');
        db.transaction(() => removed.forEach((id) => del.run(id)))();
        // Our stem files; never the user's own audio.
        for (const id of removed) rmSync(join(paths.stems, id), { recursive: true, force: true });
        for (const key of peaksCache.keys()) if (removed.some((id) => key.startsWith(`${id}/`))) peaksCache.delete(key);
        if (removed.length) events.emit('library:changed', { ids: removed });
        return { removed };
      },
      'pipeline.run': async ({ ids, steps, model }) => {
        readonlyGuard();
        const missing = ids.filter((id) => !tracks.get(id));
        if (missing.length === ids.length) throw new SfaError('NOT_FOUND', `No track with id ${missing[0]}.`);
        const jobIds = await enqueuePipeline(ids, steps, model ? { model } : {});
        events.emit('library:changed', { ids });
        return { jobIds };
      },
      'export.analysis': ({ ids, format }) => {
        const content = exportAnalysis(tracks, analyses, format, ids);
        const count = format === 'csv' ? Math.max(0, content.split('\r\n').length - 2) : (JSON.parse(content) as unknown[]).length;
        return { content, filename: `sfa-analysis-${new Date().toISOString().slice(0, 10)}.${format}`, count };
      },
      'export.stems': async ({ trackId, stems: wanted, dir, instrumental }) => {
        const detail = trackDetail(trackId);
        if (!detail.stems) throw new SfaError('NOT_FOUND', `${detail.title} has no stems yet: separate it first.`);
        const unknown = wanted.filter((s) => !detail.stems![s]);
        if (unknown.length) throw new SfaError('NOT_FOUND', `${detail.title} has no stem ${unknown.join(', ')}.`);
        const target = resolve(dir);
        mkdirSync(target, { recursive: true });
        // eslint-disable-next-line no-control-regex
        const base = detail.title.replace(/[\\/:*?"<>|\u0000-\u001f]+/g, '_').trim().slice(0, 120) || 'track';
        const files: string[] = [];
        for (const stem of wanted) {
          const from = detail.stems[stem]!;
          const to = join(target, `${base} - ${stem}${extname(from)}`);
          copyFileSync(from, to);
          files.push(to);
        }
        if (instrumental) {
          const parts = Object.entries(detail.stems).filter(([name]) => name !== 'vocals').map(([, p]) => p);
          if (!parts.length) throw new SfaError('NOT_FOUND', 'There are no non-vocal stems to mix.');
          const to = join(target, `${base} - instrumental.wav`);
          const ffmpeg = await bundledFfmpeg();
          await runFile(ffmpeg, ['-y', '-v', 'error', ...parts.flatMap((p) => ['-i', p]), '-filter_complex', `amix=inputs=${parts.length}:normalize=0`, to], { timeout: 10 * 60_000 });
          files.push(to);
        }
        return { files };
      },
      'media.peaks': async ({ trackId, stem, points }) => {
        const detail = trackDetail(trackId);
        const path = stem ? detail.stems?.[stem] : detail.path;
        if (!path) throw new SfaError('NOT_FOUND', stem ? `${detail.title} has no stem ${stem}.` : `${detail.title} has no audio file yet.`);
        if (!existsSync(path)) throw new SfaError('FILE_NOT_FOUND', `The audio file is missing: ${path}`);
        const key = `${trackId}/${stem ?? 'source'}/${points}/${path}`;
        const cached = peaksCache.get(key);
        if (cached) return cached;
        const result = await sidecars.analysis.run<Peaks>('peaks', { path, points, mixed: true }, { timeoutMs: 5 * 60_000 });
        if (peaksCache.size >= PEAKS_CACHE_MAX) peaksCache.delete(peaksCache.keys().next().value!);
        peaksCache.set(key, result);
        return result;
      },
      'settings.get': () => currentSettings(),
      'settings.set': (patch) => {
        readonlyGuard();
        const { toolPaths, concurrency, ...rest } = patch;
        const next: StoredSettings = {
          ...stored,
          ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
          concurrency: { ...stored.concurrency, ...concurrency },
          toolPaths: { ...stored.toolPaths, ...(toolPaths?.ffmpeg !== undefined ? { ffmpeg: toolPaths.ffmpeg } : {}) },
        };
        const known = new Set(queueStats(scheduler.stats()).map((q) => q.name));
        for (const q of Object.keys(concurrency ?? {})) if (!known.has(q)) throw new SfaError('BAD_REQUEST', `No queue named ${q}.`);
        settingsRepo!.write(next);
        stored = next;
        // Applied now: queue concurrency; the pipeline reads model/device/format at each enqueue.
        for (const [q, limit] of Object.entries(concurrency ?? {})) scaleQueue(q, limit);
        return currentSettings();
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
      'setup.status': () => setup.status(),
      'setup.start': (p) => (readonlyGuard(), setup.start({ offlineDir: p?.offlineDir })),
      'system.diagnostics': async () => ({
        text: await diagnosticsText({
          info: { version: appVersion(), home: paths.root, host: options.host, canPassPaths: options.canPassPaths ?? options.host !== 'serve' },
          doctor: () => doctor(sidecars.probe),
          setup: () => setup.status(),
          recentFailures: () => scheduler.recentFailures(10),
          logFile: join(paths.logs, 'engine.log'),
        }),
      }),
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
