import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../shared/domain';
import { SfaError } from '../shared/errors';
import { SEPARATION_DEFAULTS } from '../shared/separation';
import { createApi, type Api } from './api';
import { createHandlers } from './api/handlers';
import type { Services } from './api/services';
import { jobInfo, queueStats } from './api/views';
import { openDatabase, useSqliteBinding, type Db } from './db/connection';
import { migrate } from './db/migrate';
import { backupBeforeMigrate, databaseOpenError } from './db/safety';
import { migrations } from './db/migrations';
import { EventBus } from './events';
import { ensureHome, homePaths } from './home';
import { createScheduler, DEFAULTS, type AnyWorker } from './jobs';
import { AnalysisRepository } from './library/analyses';
import { trackDetails } from './library/detail';
import { Importer } from './library/importer';
import { PeaksCache } from './library/peaks';
import { createPipeline, type SeparationSettings } from './library/pipeline';
import { StemRepository } from './library/stems';
import { TrackRepository } from './library/tracks';
import { HomeLock } from './lock';
import { appVersion } from './paths';
import { createLogger, type Logger } from './log';
import { mediaLookup, type MediaEntry } from './media/lookup';
import { ModelStore, type ModelStoreOptions } from './models';
import { fileSecretStore, type SecretStore } from './secrets';
import { DJ_SETTING_DEFAULTS, SettingsRepository, type StoredSettings } from './settings';
import { PYTHON_NO_BYTECODE, pythonEnvironment } from './sidecar/environment';
import { ffmpegVars, setConfiguredFfmpeg } from './sidecar/ffmpeg';
import { JitCache } from './sidecar/jit-cache';
import { SIDECAR_IDLE_MS, SidecarPool } from './sidecar/pool';
import { createSetup, type Provisioner } from './provision';
import type { ClusterInstallDeps } from './provision/cluster';
import { ClusterBackend } from './cluster/backend';
import { CLUSTER_SETTING_DEFAULTS, type ClusterSettings } from './cluster/config';
import { analysisWorker } from './workers/analyze';
import { analysisProcesses, threadVars, threadsEach } from './workers/parallelism';
import type { WorkerDeps } from './workers/deps';
import { GpuGate } from './workers/gpu-gate';
import { downloadWorker, watchLinkTracks } from './workers/download';
import { expandWorker } from './workers/expand';
import { processingWorker } from './workers/separate';
import { warmSeparationsDuringDownloads } from './workers/separation-warmup';

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
  /** Queue concurrency; defaults download 3, processing 2, analysis one per core (workers/parallelism.ts). */
  queues?: Record<string, number>;
  /** Defaults for separation jobs the pipeline enqueues. */
  separation?: Partial<SeparationSettings>;
  /** First-run setup: a fake provisioner (tests); default the shared core in scripts/provision/. */
  provisioner?: Provisioner;
  /** The optional Ray install (`cluster.install`): stand-ins for the installer and the version probe (tests). */
  clusterInstall?: Pick<ClusterInstallDeps, 'installer' | 'probe'>;
  /** Extra workers (tests). */
  workers?: AnyWorker[];
  /** The better-sqlite3 binary to load (the desktop app under Electron: its ABI build); default npm's. */
  sqliteBinding?: string;
  /** The app's version as its host knows it (Electron: `app.getVersion()`); default package.json's. */
  version?: string;
  /** Where secrets (the Spotify client secret) are kept: the Electron host passes the OS credential store; default a private file in the home. */
  secrets?: SecretStore;
  /**
   * The Ray cluster: `address` is the CLI's `--cluster` (before env SFA_RAY_ADDRESS and the
   * setting); `retryDelay` how long jobs wait for an unreachable cluster (tests shorten it).
   */
  cluster?: { address?: string | null; retryDelay?: (waits: number) => number };
  /** Model store settings: a mirror `baseUrl`, an injected `fetch` (tests), retry timing. */
  models?: Omit<ModelStoreOptions, 'dir' | 'onProgress' | 'verifyLoad' | 'logger'>;
}

/**
 * What a host gets: the contract (`api`, `events`) and the one media lookup; nothing else. What a
 * host needs beyond that becomes a request in `src/shared/contract.ts`. (Tests that must reach
 * inside use `createEngineForTests` in `src/main/test/engine.ts`, which is not part of this type.)
 */
export interface Engine {
  api: Api;
  /** The contract's pushed events (the same ones IPC and the WebSocket carry). */
  events: Pick<EventBus, 'subscribe'>;
  /**
   * The registered file a (trackId, stem | 'source') pair from an untrusted caller names, or null:
   * the media routes (serve's /media, Electron's app://sfa/media) and the desktop drag and reveal.
   * Stems are confined (links followed) to the library's stems folder; only regular files.
   */
  media(trackId: unknown, which: unknown): MediaEntry | null;
  /** Start the sidecars and compile librosa's JIT now, so the first real job finds them warm; run one library search, so the first keystroke finds it warm. */
  prewarm(): Promise<void>;
  close(): Promise<void>;
}

/** The composition root: one per process and data folder. Hosts adapt it; it knows no host. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  return (await assembleEngine(options)).engine;
}

/**
 * The engine and its internal services. Only `createEngine` and the test accessor
 * (`src/main/test/engine.ts`) call this; lint refuses it anywhere else.
 */
export async function assembleEngine(options: EngineOptions): Promise<{ engine: Engine; services: Services }> {
  if (options.sqliteBinding) useSqliteBinding(options.sqliteBinding);
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
    defaultModel: options.separation?.model ?? (envModel || SEPARATION_DEFAULTS.model),
    device: options.separation?.device ?? SEPARATION_DEFAULTS.device,
    format: options.separation?.format ?? SEPARATION_DEFAULTS.format,
    autoPipeline: true,
    concurrency: { ...DEFAULTS.queues, analysis: analysisProcesses() },
    toolPaths: { ffmpeg: null },
    ...DJ_SETTING_DEFAULTS,
  };
  let stored = settingsRepo?.read(settingDefaults) ?? settingDefaults;
  // One precedence for queue limits: engine options, then stored settings, then the defaults.
  const configuredQueues = () => ({ ...DEFAULTS.queues, ...stored.concurrency, ...options.queues });
  const queues = configuredQueues();
  /** The pooled queues' limits on this machine (what a cluster's suggestion gives way to when it is turned off). */
  const localConcurrency = () => {
    const limits = configuredQueues();
    return { processing: limits.processing ?? 2, analysis: limits.analysis ?? 2 };
  };
  const local = localConcurrency();
  setConfiguredFfmpeg(stored.toolPaths.ffmpeg);
  // before the sidecar environment is resolved: it registers the first-run environment folder
  const setup = createSetup({
    home: paths.root,
    modelsDir: paths.models,
    logger,
    provisioner: options.provisioner,
    emit: (p) => events.emit('setup:progress', p),
    // Ray just installed, no restart: drivers import it at their next connection (a new package is
    // found by a running Python), and the backend asks the cluster for its resources again at once
    cluster: { ...options.clusterInstall, emit: (c) => events.emit('cluster:install', c), onInstalled: () => cluster.apply() },
  });
  const env = pythonEnvironment();
  // numba's JIT cache is per user, not per library: every library (and test home) shares warm code.
  const jitCache = new JitCache(join(userCacheDir(), 'sfa', 'numba'), logger, process.env.NUMBA_CACHE_DIR);
  const vars = { ...jitCache.vars, ...PYTHON_NO_BYTECODE, ...ffmpegVars() };
  const onNativeCrash = (reason: string) => jitCache.quarantineAfter(reason);
  // Two processing sidecars share the cores instead of each taking all of them.
  const threads = String(threadsEach(local.processing));
  // Warm between the tracks of a session, stopped once the app has sat idle for a while: their
  // models and buffers (a separation sidecar ~1.2 GB) are not held for hours.
  const idle = { idleMs: SIDECAR_IDLE_MS };
  const sidecars = {
    probe: new SidecarPool('probe', 1, { env, logger, vars, onNativeCrash, args: ['--no-devices'] }),
    analysis: new SidecarPool('analysis', local.analysis, { env, logger, onNativeCrash, args: ['--no-devices'], vars: { ...vars, ...threadVars(threadsEach(local.analysis)) } }, idle),
    processing: new SidecarPool('processing', local.processing, {
      env,
      logger,
      onNativeCrash,
      vars: { ...vars, OMP_NUM_THREADS: threads, SFA_SIDECAR_CONCURRENCY: String(local.processing) },
    }, idle),
  };
  const models = new ModelStore({
    ...options.models,
    dir: paths.models,
    logger,
    onProgress: (p) => events.emit('models:progress', p),
    // An imported model is loaded once in a processing sidecar (it stays warm there for the next separation).
    verifyLoad: async (name, repo) => {
      // The processing pool runs cluster drivers (no `warm` op): the first separation checks the model there.
      if (cluster.address) return logger.info(`models: ${name} imported; it loads on the cluster at its first separation`);
      try {
        await sidecars.processing.run('warm', { model: name, repo, device: 'cpu' }, { timeoutMs: 10 * 60_000 });
      } catch (error) {
        // Without a Python environment only the file checks apply; the separation reports the rest.
        if ((error as SfaError).code === 'SIDECAR_UNAVAILABLE') logger.warn(`models: ${name} imported unverified: ${(error as Error).message}`);
        else throw error;
      }
    },
  });
  const secrets = options.secrets ?? fileSecretStore(join(paths.root, 'secrets.json'));
  const spotifyCredentials = () => {
    const clientId = stored.spotifyClientId ?? null;
    const clientSecret = clientId ? secrets.get('spotify.clientSecret') : null;
    return clientId && clientSecret ? { clientId, clientSecret } : null;
  };
  const clusterSettings = (): ClusterSettings => ({
    ...CLUSTER_SETTING_DEFAULTS,
    ...stored.cluster,
    concurrency: { ...CLUSTER_SETTING_DEFAULTS.concurrency, ...stored.cluster?.concurrency },
  });
  // The processing and analysis pools run cluster drivers while a cluster address is set.
  const cluster = new ClusterBackend({
    db,
    logger,
    pools: { processing: { pool: sidecars.processing, localArgs: [] }, analysis: { pool: sidecars.analysis, localArgs: ['--no-devices'] } },
    base: { env, logger, vars },
    cliAddress: options.cluster?.address ?? null,
    settings: clusterSettings,
    storedToken: () => secrets.get('cluster.token'),
    scaleQueue: (queue, limit) => scaleQueue(queue, limit),
    localConcurrency,
    followResources: Boolean(options.runQueues),
    retryDelay: options.cluster?.retryDelay,
  });
  const deps: WorkerDeps = { paths, tracks, analyses, stems, sidecars, logger, models, gpu: new GpuGate(), spotify: spotifyCredentials, cluster };
  const scheduler = createScheduler({
    db,
    queues,
    workers: [downloadWorker(deps), expandWorker(deps), analysisWorker(deps), processingWorker(deps), ...(options.workers ?? [])],
    logger,
  });
  watchLinkTracks(scheduler, tracks);
  warmSeparationsDuringDownloads(scheduler, deps);
  const importer = new Importer(tracks, sidecars.probe);
  // One precedence for every caller (pipeline, separation.run): stored settings, engine options, built-ins.
  const separationDefaults = (): SeparationSettings => ({ ...SEPARATION_DEFAULTS, ...options.separation, model: stored.defaultModel, device: stored.device, format: stored.format });
  const currentSettings = (): Settings => {
    const { spotifyClientId = null, cluster: _cluster, ...rest } = stored;
    return {
      ...rest,
      concurrency: { ...stored.concurrency, ...Object.fromEntries(queueStats(scheduler.stats()).map((q) => [q.name, q.limit])) },
      libraryFolder: paths.root,
      spotify: { clientId: spotifyClientId, clientSecretStored: !!secrets.get('spotify.clientSecret'), secretStore: secrets.kind },
      cluster: {
        ...clusterSettings(),
        active: cluster.address,
        token: { stored: !!secrets.get('cluster.token'), fromEnv: !!process.env.SFA_RAY_TOKEN?.trim(), secretStore: secrets.kind },
      },
    };
  };
  const scaleQueue = (queue: string, limit: number) => {
    scheduler.scaleQueue(queue, limit);
    if (queue === 'analysis') {
      sidecars.analysis.resize(limit);
      sidecars.analysis.updateVars(threadVars(threadsEach(limit)));
    }
    if (queue === 'processing') sidecars.processing.resize(limit);
  };
  // after scaleQueue: a stored concurrency override is applied at once
  try {
    cluster.apply();
  } catch (error) {
    // a bad --cluster or SFA_RAY_ADDRESS (CLUSTER_ADDRESS): nothing has started yet
    await Promise.all(Object.values(sidecars).map((p) => p.close()));
    db.close();
    lock?.release();
    throw error;
  }

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

  const trackDetail = trackDetails({ tracks, analyses, stems });
  const pipeline = createPipeline({ tracks, scheduler, separationDefaults });

  const services: Services = {
    host: options.host,
    version: options.version ?? appVersion(),
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
    secrets,
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
        // applied live too: the pools' processes become drivers (or sidecars again) as they come idle
        cluster.apply();
      },
    },
    cluster,
    peaks: new PeaksCache(),
    pipeline,
    trackDetail,
    scaleQueue,
  };
  const api = createApi(createHandlers(services), logger);

  if (options.runQueues) scheduler.start();

  let closed = false;
  const engine: Engine = {
    api,
    events,
    media: mediaLookup(trackDetail, paths.stems),
    async prewarm() {
      const started = Date.now();
      // The first searches of a process pay for cold code and pages (at 100,000 tracks the first
      // keystroke's ~35 ms against ~5 warm, bench/ui-engine-probe.mjs): paid here, not at the
      // user's first keystrokes; a letter (the scan) and a word (the trigram index's probe first).
      for (const search of ['e', 'the']) {
        const searched = await api.handle('library.list', { search, limit: 50, quickCount: true });
        if (!searched.ok) logger.warn(`prewarm: the library search failed: ${searched.error.message}`);
      }
      // a cluster driver warms its actors on the cluster at its first job; librosa's JIT is local work
      const analysisWarm = cluster.address ? sidecars.analysis.warm() : sidecars.analysis.run('analyze_warm', {});
      await Promise.allSettled([analysisWarm, sidecars.processing.warm()]).then((results) => {
        for (const r of results) if (r.status === 'rejected') logger.warn(`prewarm: ${(r.reason as Error).message}`);
      });
      logger.info(`sidecars warm in ${Date.now() - started} ms`);
    },
    async close() {
      if (closed) return;
      closed = true;
      // a first-run setup in progress: end pip's process tree now, resume from that step next launch
      await setup.stop();
      if (options.runQueues) await scheduler.stop({ graceMs: 2000 });
      await cluster.close();
      await Promise.all(Object.values(sidecars).map((p) => p.close()));
      db.close();
      lock?.release();
    },
  };
  return { engine, services };
}
