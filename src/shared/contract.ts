/**
 * The one contract between the engine and every client (Electron IPC, WebSocket, CLI).
 *
 * Each request has a zod schema for its params (validated by the engine whatever the transport)
 * and a result type. Each pushed event has a payload type. Preload, `serve` and the renderer all
 * import this file; nothing else defines a channel.
 */
import { z } from 'zod';
import type { AnalysisResult } from './analysis';
import type { CollectionExport, DjProgress, StemFilesExport, TagsResult, TagsView } from './dj';
import type { ErrorInfo } from './errors';
import type { AddResult, DoctorReport, ImportProgress, JobInfo, Peaks, QueueStats, Settings, TrackDetail, TrackListItem } from './domain';
import { JOB_STATES } from './job-states';
import { CAMELOT_CODE, LIST_MAX_IDS, LIST_MAX_LIMIT, LIST_SORT_COLUMNS, TITLES_MAX_IDS } from './listing';
import { CLUSTER_TOKEN, MODEL_NAME, STEM_NAME, TRACK_ID } from './patterns';
import { DEVICES, SHIFTS_MAX, STEM_FORMATS } from './separation';

/** A request's definition: a params schema plus a phantom result type. */
export interface RequestDef<P extends z.ZodType, R> {
  params: P;
  /** Never set at run time: carries the result type for the client's inference. */
  readonly result?: R;
}

function request<R>() {
  return <P extends z.ZodType>(params: P): RequestDef<P, R> => ({ params });
}

const id = z.string().regex(TRACK_ID, 'a track id: letters, digits, _ -');
const input = z.string().min(1).max(4096);
const stepList = z.array(z.enum(['separate', 'analyze'])).max(2);
const jobId = z.number().int().positive();
const queueName = z.string().min(1).max(64);
const modelName = z.string().regex(MODEL_NAME, 'a model name: letters, digits, _ . - (not starting with - or .)');
const stemName = z.string().regex(STEM_NAME, 'a stem name: letters, digits, _ . - (not starting with - or .)');
const jobState = z.enum(JOB_STATES);
const device = z.enum(DEVICES);
const stemFormat = z.enum(STEM_FORMATS);
const keyNotation = z.enum(['standard', 'camelot', 'openkey']);
const trackSelection = z.array(id).min(1).max(10_000).optional();
/** What the library table sorts, filters and searches by (`library.list` and `library.ids`). */
const libraryQuery = {
  sort: z.strictObject({ column: z.enum(LIST_SORT_COLUMNS), dir: z.enum(['asc', 'desc']) }).optional(),
  /** Words, each found anywhere (case aside) in the title, artist, album, Camelot code or key name. */
  search: z.string().max(500).optional(),
  bpmMin: z.number().min(0).max(1000).nullable().optional(),
  bpmMax: z.number().min(0).max(1000).nullable().optional(),
  /** Camelot codes the track's key must be one of ([] matches nothing). */
  keys: z.array(z.string().regex(CAMELOT_CODE, 'a Camelot code: 1A-12B')).max(24).nullable().optional(),
};
/** Queue slots on a cluster: one per actor, so more than a desktop's 16. */
const clusterSlots = z.number().int().min(1).max(1024);
/** A Spotify app's client id or secret (32 hex characters today; a little room either way). */
const spotifyKey = z.string().regex(/^[A-Za-z0-9]{16,64}$/, 'a Spotify client id or secret: 16-64 letters and digits');

export const requests = {
  'library.add': request<AddResult>()(
    z.strictObject({
      inputs: z.array(input).min(1).max(10_000),
      /** Pipeline steps to enqueue; omitted = all, [] = none. */
      steps: stepList.optional(),
      model: modelName.optional(),
      /** Counts and the first errors only, not every track (a folder of 100,000 files: `sfa run FOLDER`). */
      summaryOnly: z.boolean().optional(),
    }),
  ),
  /**
   * The library table. Without params (or `{}`): every track. With any: one window (`limit` rows
   * from `offset`, default 200) sorted (unknown values last), filtered and searched in the engine;
   * `total` counts every matching track, `libraryTotal` every track.
   */
  'library.list': request<{ tracks: TrackListItem[]; total: number; totalExact?: boolean; libraryTotal: number }>()(
    z
      .strictObject({
        offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
        limit: z.number().int().min(1).max(LIST_MAX_LIMIT).optional(),
        /** Estimate `total` where counting costs more than the window (`totalExact: false`; `library.count` counts). */
        quickCount: z.boolean().optional(),
        ...libraryQuery,
      })
      .optional(),
  ),
  /** Tracks matching the filter, exactly (after a `library.list` with `quickCount` estimated them). */
  'library.count': request<{ total: number; libraryTotal: number }>()(z.strictObject(libraryQuery)),
  /** The ids of rows `offset`..`offset + limit - 1` of the table as sorted and filtered (a shift-click range). */
  'library.ids': request<{ ids: string[] }>()(
    z.strictObject({
      offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      limit: z.number().int().min(1).max(LIST_MAX_IDS),
      ...libraryQuery,
    }),
  ),
  /** Titles of the named tracks (those that exist), for views that name tracks the table has not loaded. */
  'library.titles': request<{ titles: Record<string, string> }>()(z.strictObject({ ids: z.array(id).min(1).max(TITLES_MAX_IDS) })),
  'library.get': request<TrackDetail>()(z.strictObject({ id })),
  'jobs.list': request<{ jobs: JobInfo[] }>()(
    z
      .strictObject({
        state: z.union([jobState, z.array(jobState).max(JOB_STATES.length)]).optional(),
        queue: queueName.optional(),
        trackId: id.optional(),
        limit: z.number().int().min(1).max(1000).optional(),
      })
      .optional(),
  ),
  'jobs.get': request<JobInfo>()(z.strictObject({ id: jobId })),
  'jobs.cancel': request<JobInfo>()(z.strictObject({ id: jobId })),
  'jobs.retry': request<JobInfo>()(z.strictObject({ id: jobId })),
  'queues.list': request<{ queues: QueueStats[] }>()(z.strictObject({}).optional()),
  'queues.pause': request<{ queues: QueueStats[] }>()(z.strictObject({ queue: queueName })),
  'queues.resume': request<{ queues: QueueStats[] }>()(z.strictObject({ queue: queueName })),
  'queues.scale': request<{ queues: QueueStats[] }>()(z.strictObject({ queue: queueName, limit: z.number().int().min(1).max(16) })),
  'system.doctor': request<DoctorReport>()(z.strictObject({}).optional()),
  'system.info': request<SystemInfo>()(z.strictObject({}).optional()),
  /** The model store: installed and downloadable separation models. */
  'models.list': request<{ dir: string; models: ModelInfo[] }>()(z.strictObject({}).optional()),
  /** Download an official model now (progress: `models:progress`); a no-op when installed. */
  'models.download': request<{ model: ModelInfo; downloaded: boolean }>()(z.strictObject({ name: modelName })),
  /** Import a `.th` weight file or a demucs model folder (`{sig}.th` + `{name}.yaml`) from disk. */
  'models.import': request<{ imported: string[]; models: ModelInfo[] }>()(z.strictObject({ path: input, name: modelName.optional() })),
  'models.remove': request<{ removed: string; freedBytes: number }>()(z.strictObject({ name: modelName })),
  /** Remove tracks from the library: their analysis, stems rows and stem files; never the user's own files. */
  'library.remove': request<{ removed: string[] }>()(z.strictObject({ ids: z.array(id).min(1).max(10_000) })),
  /** Run pipeline steps again for tracks (separate with a chosen model, re-analyse). */
  'pipeline.run': request<{ jobIds: number[] }>()(
    z.strictObject({ ids: z.array(id).min(1).max(10_000), steps: z.array(z.enum(['separate', 'analyze'])).min(1).max(2), model: modelName.optional() }),
  ),
  /** The analysis of some tracks (or all) as CSV or JSON text. */
  'export.analysis': request<{ content: string; filename: string; count: number }>()(
    z.strictObject({ ids: z.array(id).max(10_000).optional(), format: z.enum(['csv', 'json']) }),
  ),
  /** Copy a track's stems (and optionally an instrumental mix of all but vocals) into a folder (desktop). */
  'export.stems': request<{ files: string[] }>()(
    z.strictObject({ trackId: id, stems: z.array(stemName).min(1).max(16), dir: input, instrumental: z.boolean().optional() }),
  ),
  /** Waveform peaks of a track's source audio or one of its stems (cached in memory). */
  'media.peaks': request<Peaks>()(z.strictObject({ trackId: id, stem: stemName.optional(), points: z.number().int().min(16).max(20_000) })),
  'settings.get': request<Settings>()(z.strictObject({}).optional()),
  /** Change some settings; applied at once where possible (queue concurrency, pipeline defaults). */
  'settings.set': request<Settings>()(
    z.strictObject({
      defaultModel: modelName.optional(),
      device: device.optional(),
      format: stemFormat.optional(),
      autoPipeline: z.boolean().optional(),
      concurrency: z.record(queueName, z.number().int().min(1).max(16)).optional(),
      toolPaths: z.strictObject({ ffmpeg: input.nullable().optional() }).optional(),
      keyNotation: keyNotation.optional(),
      energyField: z.enum(['comment', 'grouping', 'none']).optional(),
      stemCodec: z.enum(['aac', 'alac']).optional(),
      /** The user's Spotify app (developer.spotify.com): null clears; the secret is stored apart and never returned. */
      spotify: z.strictObject({ clientId: spotifyKey.nullable().optional(), clientSecret: spotifyKey.nullable().optional() }).optional(),
      /**
       * Separation and analysis on a Ray cluster: `address` (null: this machine; checked against
       * CLUSTER_ADDRESS, error code CLUSTER_ADDRESS), its auth `token` (the secret store, never
       * returned; null clears), queue concurrency overrides (null: follow the cluster), threads per
       * CPU separation actor.
       */
      cluster: z
        .strictObject({
          address: z.string().max(300).nullable().optional(),
          token: z.string().regex(CLUSTER_TOKEN, 'a Ray auth token: 8-4096 printable characters, no spaces').nullable().optional(),
          concurrency: z.strictObject({ processing: clusterSlots.nullable().optional(), analysis: clusterSlots.nullable().optional() }).optional(),
          threads: z.number().int().min(1).max(256).nullable().optional(),
        })
        .optional(),
    }),
  ),
  /** The cluster (when an address is set): nodes, CPUs/GPUs, actors, and the jobs running on each node. */
  'cluster.status': request<ClusterStatus>()(z.strictObject({}).optional()),
  /** First-run setup of the Python engine environment: what is done, what will be downloaded. */
  'setup.status': request<SetupStatus>()(z.strictObject({}).optional()),
  /** Start (or resume) the setup; returns at once, progress comes as `setup:progress`. `offlineDir`: a folder of wheels/ and models/. */
  'setup.start': request<SetupStatus>()(z.strictObject({ offlineDir: input.optional() }).optional()),
  /**
   * Install the optional cluster support (the pinned Ray) into the engine's Python environment, once
   * the setup is ready; returns at once, progress comes as `cluster:install`. `offlineDir`: a folder of wheels.
   */
  'cluster.install': request<ClusterInstallStatus>()(z.strictObject({ offlineDir: input.optional() }).optional()),
  /**
   * Analyse one track now, ahead of the queue, and wait for the result. `input`: a track id, or a
   * file to import first (without the pipeline). Progress: `job:progress` of the returned job.
   */
  'analysis.run': request<{ trackId: string; title: string; jobId: number; result: AnalysisResult }>()(z.strictObject({ input })),
  /**
   * Separate one track now, ahead of the queue, and wait. Unset settings come from the stored
   * ones (settings.get: model, device, format), then the built-in defaults.
   */
  'separation.run': request<{ trackId: string; jobId: number; model: string; device: string | null; stems: Record<string, string> }>()(
    z.strictObject({
      input,
      model: modelName.optional(),
      device: device.optional(),
      format: stemFormat.optional(),
      shifts: z.number().int().min(0).max(SHIFTS_MAX).optional(),
      overlap: z.number().min(0).lt(1).optional(),
      /** A local demucs model repository (a folder of `{sig}.th` + `{name}.yaml`). */
      repo: input.optional(),
      twoStems: stemName.optional(),
      instrumental: z.boolean().optional(),
    }),
  ),
  /** Wait until a job has finished (completed, discarded or cancelled) and return it; `timeoutMs` bounds the wait (JOB_TIMEOUT). */
  'jobs.wait': request<JobInfo>()(z.strictObject({ id: jobId, timeoutMs: z.number().int().min(1).max(24 * 3600_000).optional() })),
  /** The latest failed attempts (retryable or discarded jobs), newest first. */
  'jobs.failures': request<{ jobs: JobInfo[] }>()(z.strictObject({ limit: z.number().int().min(1).max(100).optional() }).optional()),
  /** Resolves when no job is available or executing and none is due now (later retries are not "now"). */
  'queues.waitIdle': request<{ queues: QueueStats[] }>()(z.strictObject({ pollMs: z.number().int().min(10).max(10_000).optional() }).optional()),
  /** A plain-text report to paste into a bug report: versions, doctor, device, recent failures, last log lines. */
  'system.diagnostics': request<{ text: string }>()(z.strictObject({}).optional()),

  // DJ software (src/main/library/dj/): tags in the audio files, rekordbox / Traktor collections,
  // M3U8, NI Stems. `ids` omitted: every analysed track (restore: every track we tagged).
  /** The file's own BPM/key/comment beside our analysis. */
  'tags.read': request<TagsView>()(z.strictObject({ id })),
  /** Write BPM, key (notation: the setting unless given) and energy (setting) into the tracks' files. */
  'tags.write': request<TagsResult>()(z.strictObject({ ids: trackSelection, keyNotation: keyNotation.optional() })),
  /** Put back the values our tag writes replaced. */
  'tags.restore': request<TagsResult>()(z.strictObject({ ids: trackSelection })),
  /** `out` omitted: a file in the library's exports folder (the only choice in the browser host). */
  'export.rekordbox': request<CollectionExport>()(z.strictObject({ ids: trackSelection, out: input.optional() })),
  'export.traktor': request<CollectionExport>()(z.strictObject({ ids: trackSelection, out: input.optional() })),
  'export.m3u': request<CollectionExport>()(z.strictObject({ ids: trackSelection, out: input.optional() })),
  /** Stems of many tracks as NI Stems files or plain audio files (`codec`: stem.mp4 only; default the setting). */
  'export.stemFiles': request<StemFilesExport>()(
    z.strictObject({ ids: trackSelection, format: z.enum(['stem.mp4', 'wav', 'flac', 'mp3']), dir: input.optional(), codec: z.enum(['aac', 'alac']).optional() }),
  ),
} as const;

export type SetupStepName = 'python' | 'venv' | 'packages' | 'models' | 'verify';

/** Progress of the first-run setup (`fraction` within the step, `overall` over all steps, both 0..1). */
export interface SetupProgress {
  step: SetupStepName;
  fraction: number;
  overall: number;
  message: string;
  bytes?: number;
  totalBytes?: number | null;
}

export interface SetupStatus {
  /** `ready`: the engine can start its sidecars; `needed`: nothing or part done; `failed`: the last attempt stopped at `error.step`. */
  state: 'ready' | 'needed' | 'running' | 'failed';
  /** Where the Python comes from: SFA_PYTHON, the dev checkout's python/.venv, or the app's provisioned environment. */
  source: 'explicit' | 'dev' | 'app';
  envDir: string;
  /** The lock file chosen for this machine (e.g. linux-cuda) and the detected accelerator. */
  lock: string;
  accelerator: string;
  steps: { name: SetupStepName; title: string; state: 'done' | 'pending' | 'running' | 'failed' }[];
  /** What the setup will download, with approximate sizes. */
  downloads: { name: string; sizeMb: number }[];
  error: { step: SetupStepName; message: string; nextSteps: string[]; detail: string } | null;
  progress: SetupProgress | null;
  /** The optional cluster support (Ray) in the same environment. */
  cluster: ClusterInstallStatus;
}

/** Ray in the engine's environment (`cluster.install`): `installed` is its version, null when absent. */
export interface ClusterInstallStatus {
  state: 'absent' | 'installing' | 'ready' | 'failed';
  installed: string | null;
  /** Approximate download, MB. */
  sizeMb: number;
  progress: { fraction: number; message: string } | null;
  error: { message: string; nextSteps: string[]; detail: string } | null;
}

/** A separation model as the model store lists it. */
export interface ModelInfo {
  name: string;
  kind: 'demucs' | 'dsp';
  /** `catalogue`: an official model the app can download; `local`: imported, unknown to the catalogue. */
  source: 'catalogue' | 'local';
  stems: string[] | null;
  /** Approximate download size (catalogue models). */
  sizeMb: number | null;
  quality: string | null;
  /** Weight file names. */
  files: string[];
  installed: boolean;
  /** Bytes of its weight files in the store. */
  bytes: number;
  /** Bytes of an interrupted download that the next download resumes from. */
  partialBytes: number;
  urls: string[];
}

/** Progress of a model download (`percent` 0..100): `total` is null until the server has said it. */
export interface ModelProgress {
  name: string;
  percent: number;
  bytes: number;
  total: number | null;
}

/** `cluster.status`: the active cluster as its driver sees it, and where our jobs run on it. */
export interface ClusterStatus {
  /** null: no address configured (work runs on this machine). */
  address: string | null;
  /** Where the address came from: `--cluster`, env SFA_RAY_ADDRESS, or the setting. */
  source: 'cli' | 'env' | 'setting' | null;
  connected: boolean;
  /** Why it is not connected (unreachable, token refused...). */
  error: string | null;
  nodes: { nodeId: string; ip: string; alive: boolean; cpus: number; gpus: number; inFlight: number }[];
  actors: { kind: string; nodeId: string; state: string }[];
  cpus: number;
  gpus: number;
  /** Concurrency the cluster's resources suggest, and what the queues use now (overrides included). */
  suggested: { processing: number; analysis: number } | null;
  concurrency: { processing: number; analysis: number };
  /** Jobs executing now on the cluster, with their node once it is known. */
  jobs: { id: number; worker: string; trackId: string | null; node: { ip: string; id: string } | null; progress: { percent: number; message: string | null } | null }[];
}

export interface SystemInfo {
  version: string;
  home: string;
  host: 'electron' | 'serve' | 'cli';
  /** True where the host can pass file paths (Electron); false where files must be uploaded. */
  canPassPaths: boolean;
}

export type RequestName = keyof typeof requests;
export type RequestParams<N extends RequestName> = z.input<(typeof requests)[N]['params']>;
export type RequestResult<N extends RequestName> = NonNullable<(typeof requests)[N]['result']>;

export interface Events {
  /** Tracks were added, changed or removed (analysis, stems, status); `ids` lists them when known. */
  'library:changed': { ids?: string[] };
  /** A job changed state (inserted, started, retried, completed...). */
  'job:changed': { job: JobInfo };
  /** Live progress of a running job (about 10 per second at most per job). */
  'job:progress': { id: number; trackId: string | null; percent: number; message: string | null };
  /** A queue was paused, resumed or scaled. */
  'queues:changed': { queues: QueueStats[] };
  /** A model download progressed (about 10 per second at most). */
  'models:progress': ModelProgress;
  /** The first-run setup progressed (a few per second at most). */
  'setup:progress': SetupProgress;
  /** The Ray install progressed, started or ended (its whole status, a few per second at most). */
  'cluster:install': ClusterInstallStatus;
  /** A tag write or DJ export progressed. */
  'dj:progress': DjProgress;
  /** A `library.add` progressed: files seen, imported, skipped, failed (a few per second at most). */
  'library:import': ImportProgress;
}

export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['library:changed', 'job:changed', 'job:progress', 'queues:changed', 'models:progress', 'setup:progress', 'dj:progress', 'library:import', 'cluster:install'];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}

/** The wire envelope for a reply, the same over IPC and WebSocket. */
export type Reply<R = unknown> = { ok: true; result: R } | { ok: false; error: ErrorInfo };
