/**
 * The one contract between the engine and every client (Electron IPC, WebSocket, CLI).
 *
 * Each request has a zod schema for its params (validated by the engine whatever the transport)
 * and a result type. Each pushed event has a payload type. Preload, `serve` and the renderer all
 * import this file; nothing else defines a channel.
 */
import { z } from 'zod';
import type { AddResult, DoctorReport, JobInfo, QueueStats, TrackDetail, TrackListItem } from './domain';

/** A request's definition: a params schema plus a phantom result type. */
export interface RequestDef<P extends z.ZodType, R> {
  params: P;
  /** Never set at run time: carries the result type for the client's inference. */
  readonly result?: R;
}

function request<R>() {
  return <P extends z.ZodType>(params: P): RequestDef<P, R> => ({ params });
}

const id = z.string().min(1).max(128);
const input = z.string().min(1).max(4096);
const stepList = z.array(z.enum(['separate', 'analyze'])).max(2);
const jobId = z.number().int().positive();
const queueName = z.string().min(1).max(64);
const modelName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, 'a model name: letters, digits, _ . -');
const jobState = z.enum(['scheduled', 'available', 'executing', 'retryable', 'completed', 'discarded', 'cancelled']);

export const requests = {
  'library.add': request<AddResult>()(
    z.strictObject({
      inputs: z.array(input).min(1).max(10_000),
      /** Pipeline steps to enqueue; omitted = all, [] = none. */
      steps: stepList.optional(),
      model: z.string().min(1).max(64).optional(),
    }),
  ),
  'library.list': request<{ tracks: TrackListItem[] }>()(z.strictObject({}).optional()),
  'library.get': request<TrackDetail>()(z.strictObject({ id })),
  'jobs.list': request<{ jobs: JobInfo[] }>()(
    z
      .strictObject({
        state: z.union([jobState, z.array(jobState).max(7)]).optional(),
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
} as const;

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

/** Progress of a model download: `total` is null until the server has said it. */
export interface ModelProgress {
  name: string;
  pct: number;
  bytes: number;
  total: number | null;
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
  'job:progress': { id: number; trackId: string | null; pct: number; message: string | null };
  /** A queue was paused, resumed or scaled. */
  'queues:changed': { queues: QueueStats[] };
  /** A model download progressed (about 10 per second at most). */
  'models:progress': ModelProgress;
}

export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['library:changed', 'job:changed', 'job:progress', 'queues:changed', 'models:progress'];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}

/** The wire envelope for a reply, the same over IPC and WebSocket. */
export type Reply<R = unknown> = { ok: true; result: R } | { ok: false; error: { code: string; message: string } };
