import type { Db } from '../db/connection';
import type { ErrorCode, ErrorInfo } from '../../shared/errors';
import type { JobState } from './states';

/**
 * Every public type of the job engine and every default, in one place.
 * Units: timestamps and `timeout` are milliseconds (JS convention, injectable clock); backoff,
 * snooze, scheduleIn and unique periods are seconds (Oban convention, as in the design doc).
 */
export const DEFAULTS = {
  /** Queue concurrency (design doc 4.2). */
  queues: { download: 3, processing: 2, analysis: 2 } as Readonly<Record<string, number>>,
  /** Oban's default when a worker does not say (our three workers say 3). */
  maxAttempts: 20,
  /** 0..9, lower runs first. */
  priority: 0,
  /** No timeout unless the worker sets one. */
  timeoutMs: Infinity,
  /** Finished jobs (completed/discarded/cancelled) older than this are pruned. */
  pruneAfterMs: 7 * 24 * 3600 * 1000,
  pruneIntervalMs: 60 * 60 * 1000,
  /** Progress events per job: at most one per this interval (the final 100% always goes out). */
  progressEmitIntervalMs: 100,
  /** Progress snapshot written to the row at most once per this interval per job. */
  progressWriteIntervalMs: 1000,
  /** After cancel/timeout/shutdown aborts a perform, how long it may keep its queue slot. */
  abortGraceMs: 2000,
  /** Default grace period of stop(). */
  stopGraceMs: 5000,
  /** How often to look for commits by other connections (CLI inserts) via PRAGMA data_version. */
  externalPollMs: 250,
  /** Upper bound of the staging timer, so a wall-clock jump can never park due jobs for long. */
  maxStageDelayMs: 60_000,
  /** Oban's unique defaults. */
  unique: {
    period: 60,
    fields: ['worker', 'queue', 'args'] as UniqueField[],
    states: ['scheduled', 'available', 'executing', 'retryable', 'completed'] as JobState[],
  },
} as const;

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export interface Logger {
  debug(message: string, data?: unknown): void;
  info(message: string, data?: unknown): void;
  warn(message: string, data?: unknown): void;
  error(message: string, data?: unknown): void;
}

/** One entry per failed attempt (also for cancel/discard/rescue reasons), oldest first. */
export interface JobError {
  attempt: number;
  /** ISO-8601 time of the failure (from the injected clock). */
  at: string;
  error: string;
  code?: ErrorCode;
}

export interface JobProgress {
  percent: number;
  message: string | null;
  at: number;
}

export interface Job<A = JsonObject> {
  id: number;
  state: JobState;
  queue: string;
  worker: string;
  args: A;
  meta: JsonObject;
  tags: string[];
  errors: JobError[];
  /** What perform returned as `{ ok: value }` (JSON), null otherwise. */
  result: Json;
  attempt: number;
  maxAttempts: number;
  priority: number;
  insertedAt: number;
  scheduledAt: number;
  attemptedAt: number | null;
  /** Claim token of the latest attempt (fresh per claim); fences every transition. */
  attemptedBy: string | null;
  completedAt: number | null;
  discardedAt: number | null;
  cancelledAt: number | null;
  uniqueKey: string | null;
  trackId: string | null;
  /** True while the job is `scheduled` because dependencies have not finished. */
  waiting: boolean;
  depsPending: number;
  onDependencyFailure: DependencyFailurePolicy;
  progress: JobProgress | null;
  /** The cluster node of the latest attempt (migration 009); null: this machine. */
  node: { ip: string; id: string } | null;
}

export type DependencyFailurePolicy = 'cancel' | 'run';

export type UniqueField = 'worker' | 'queue' | 'args' | 'meta';

export interface UniqueOptions {
  /** Seconds a duplicate is refused after the first insert; 'infinity' for ever. Default 60. */
  period?: number | 'infinity';
  /** Which job fields form the key. Default ['worker', 'queue', 'args']. */
  fields?: UniqueField[];
  /** Restrict args/meta to these keys (e.g. ['spotify_url']). Default: all keys. */
  keys?: string[];
  /** States in which an existing job counts as a duplicate. Default: all but discarded/cancelled. */
  states?: JobState[];
}

export interface InsertOptions {
  /** Overrides the worker's queue. */
  queue?: string;
  priority?: number;
  /** Absolute due time (ms or Date). */
  scheduledAt?: number | Date;
  /** Seconds from now. */
  scheduleIn?: number;
  maxAttempts?: number;
  /** Overrides the worker's unique options; false turns uniqueness off for this insert. */
  unique?: UniqueOptions | false;
  /** Job ids, or `ref`s of earlier specs in the same insertAll / `then` batch. */
  dependsOn?: (number | string)[];
  /** What a cancelled/discarded dependency does to this job. Default 'cancel'. */
  onDependencyFailure?: DependencyFailurePolicy;
  meta?: JsonObject;
  tags?: string[];
  trackId?: string;
}

export interface JobSpec<A = JsonObject> extends InsertOptions {
  worker: AnyWorker | string;
  args?: A;
  /** A name other specs of the same batch can list in `dependsOn`. */
  ref?: string;
}

export interface InsertResult<A = JsonObject> {
  job: Job<A>;
  /** True when a unique conflict returned an existing job instead of inserting. */
  conflict: boolean;
}

/** Handle given to completion hooks: runs inside the transaction that completes the job. */
export interface CompletionTx {
  db: Db;
  job: Job;
  /** Insert a follow-up job atomically with the completion (may depend on other jobs). */
  insert(spec: JobSpec<unknown>): InsertResult<unknown>;
}

export interface PerformContext {
  signal: AbortSignal;
  attempt: number;
  logger: Logger;
  /** Report progress 0..100; throttled, never throws, ignored after the job ended. */
  progress(percent: number, message?: string): void;
  /**
   * Register a synchronous function that runs inside the transaction that marks this job
   * completed (only on success, only if this execution still holds the claim). Use it for side
   * effects that must happen exactly once with the completion (writing results to the library).
   * If it throws, nothing of the completion is committed and the attempt counts as an error.
   */
  onComplete(fn: (tx: CompletionTx) => void): void;
}

/**
 * What perform may return. `then` specs are inserted in the completion transaction (chaining);
 * refs inside `then` may be used by later specs of the same list.
 */
export type PerformResult<T = unknown> =
  | void
  | undefined
  | { ok: T; then?: JobSpec<unknown>[] }
  | { error: unknown }
  | { cancel: unknown }
  | { snooze: number }
  | { discard: unknown };

export interface BackoffContext {
  random: () => number;
}

/** Seconds to wait before the next attempt; `job.attempt` is the attempt that just failed. */
export type BackoffFn<A = JsonObject> = (job: Job<A>, error: unknown, ctx: BackoffContext) => number;

export interface WorkerOptions<A = JsonObject> {
  name: string;
  queue: string;
  maxAttempts?: number;
  priority?: number;
  /** Milliseconds; the signal aborts and the attempt counts as an error. */
  timeout?: number;
  backoff?: BackoffFn<A>;
  unique?: UniqueOptions;
  perform(job: Job<A>, ctx: PerformContext): PerformResult | Promise<PerformResult>;
}

export interface Worker<A = JsonObject> {
  readonly name: string;
  readonly queue: string;
  readonly maxAttempts: number;
  readonly priority: number;
  readonly timeout: number;
  readonly backoff: BackoffFn<A> | undefined;
  readonly unique: UniqueOptions | undefined;
  readonly perform: WorkerOptions<A>['perform'];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyWorker = Worker<any>;

export type TestingMode = 'disabled' | 'inline' | 'manual';

export interface SchedulerOptions {
  db: Db;
  /** Queue name -> concurrency. Default DEFAULTS.queues. */
  queues?: Record<string, number>;
  workers: AnyWorker[];
  testing?: TestingMode;
  clock?: Clock;
  /** Uniform in [0, 1). */
  random?: () => number;
  pruneAfterMs?: number;
  pruneIntervalMs?: number;
  logger?: Logger;
  /** Prefix of claim tokens; default a random id per scheduler instance. */
  nodeId?: string;
  progressEmitIntervalMs?: number;
  progressWriteIntervalMs?: number;
  abortGraceMs?: number;
  externalPollMs?: number;
}

export interface QueueInfo {
  limit: number;
  paused: boolean;
  running: number;
}

export interface Stats {
  queues: Record<string, QueueInfo & { counts: Record<JobState, number> }>;
  totals: Record<JobState, number>;
}

export interface ListJobsOptions {
  state?: JobState | JobState[];
  queue?: string;
  worker?: string;
  trackId?: string;
  /** Default 100, at most 1000. */
  limit?: number;
  /** Only jobs with id < before (paging, newest first). */
  before?: number;
}

export interface DrainOptions {
  /** Default: every configured queue. */
  queue?: string;
  /** Keep draining jobs inserted/released while draining. Default false. */
  withRecursion?: boolean;
  /** Stage scheduled and retryable jobs regardless of their due time. Default false. */
  withScheduled?: boolean;
}

export interface DrainCounts {
  success: number;
  /** Errors that left the job retryable. */
  failure: number;
  snoozed: number;
  cancelled: number;
  /** `{ discard }` or errors with no attempts left. */
  discarded: number;
}

export interface EnqueuedFilter {
  worker?: AnyWorker | string;
  queue?: string;
  /** Subset match: every given key must deep-equal the job's. */
  args?: JsonObject;
  /** Default: scheduled, available, retryable. */
  state?: JobState | JobState[];
}

// ---- events ----

export interface JobStateEvent {
  job: Job;
  from: JobState | null;
  to: JobState;
}

export interface JobStartEvent {
  job: Job;
  /** ms from due (scheduled_at) to start. */
  queueTimeMs: number;
}

export interface JobStopEvent {
  job: Job;
  durationMs: number;
  queueTimeMs: number;
  /** State the attempt left the job in. */
  state: JobState;
}

export interface JobExceptionEvent {
  job: Job;
  error: ErrorInfo;
  attempt: number;
  kind: 'error' | 'exception' | 'timeout';
}

export interface JobProgressEvent {
  id: number;
  queue: string;
  worker: string;
  percent: number;
  message: string | null;
  at: number;
}

/** What a `jobs:{id}` topic carries: progress and state changes of that one job. */
export type JobTopicEvent = ({ type: 'progress' } & JobProgressEvent) | ({ type: 'state' } & JobStateEvent);

export interface QueueChangeEvent {
  queue: string;
  info: QueueInfo;
}

export type SchedulerEvents = {
  'job:state': JobStateEvent;
  'job:start': JobStartEvent;
  'job:stop': JobStopEvent;
  'job:exception': JobExceptionEvent;
  'job:progress': JobProgressEvent;
  'queue:change': QueueChangeEvent;
} & { [topic: `jobs:${number}`]: JobTopicEvent };
