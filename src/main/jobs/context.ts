import { randomBytes } from 'node:crypto';
import { SfaError, type ErrorInfo } from '../../shared/errors';
import { TypedEmitter } from './events';
import type { Execution } from './execution';
import { JobStore } from './store';
import { UnitOfWork, type Changes } from './unit-of-work';
import {
  DEFAULTS,
  type AnyWorker,
  type Clock,
  type InsertResult,
  type JobError,
  type Logger,
  type SchedulerEvents,
  type SchedulerOptions,
} from './types';

export interface QueueState {
  name: string;
  limit: number;
  paused: boolean;
  /** Executions holding a slot: running performs, plus aborted ones within their grace period. */
  slots: number;
}

export type Timings = Required<
  Pick<
    SchedulerOptions,
    'pruneAfterMs' | 'pruneIntervalMs' | 'progressEmitIntervalMs' | 'progressWriteIntervalMs' | 'abortGraceMs' | 'externalPollMs'
  >
>;

/**
 * What runs jobs: the live runner (dispatch, staging and pruning timers) or a testing runner
 * (inline: jobs run inside insert; manual: nothing runs until drainQueue). Every module tells
 * the runner what happened through these calls; none checks which runner it is.
 */
export interface Runner {
  /** After start() rescued orphans. */
  start(): void;
  /** stop() began: no more claims, timers cleared. */
  stop(): void;
  /** A transaction committed with these changes. */
  committed(changes: Changes): void;
  /** A queue may have room now (a slot was freed, it was resumed or scaled). */
  wake(queue: string): void;
  /** insertAll's jobs are committed; resolves with the results insertAll returns. */
  inserted(results: InsertResult[]): Promise<InsertResult[]>;
  /** Attempts ended and were recorded; `madeAvailable`: jobs their completions released or inserted. */
  attemptsEnded(madeAvailable: readonly number[]): Promise<void> | undefined;
}

/** The one object every part of the scheduler shares; parts hold no state about each other. */
export interface JobsContext {
  readonly db: SchedulerOptions['db'];
  readonly store: JobStore;
  readonly uow: UnitOfWork;
  readonly workers: ReadonlyMap<string, AnyWorker>;
  readonly queues: ReadonlyMap<string, QueueState>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly emitter: TypedEmitter<SchedulerEvents>;
  readonly timings: Timings;
  /** Attempts of this process, by job id, until their end is recorded and their slot freed. */
  readonly executions: Map<number, Execution>;
  readonly lifecycle: { started: boolean; stopping: boolean };
  /** Set once, right after the context is made (the runner needs the context). */
  runner: Runner;
  /** A fresh claim token prefix: `<nodeId>.<claim#>`. */
  newToken(): string;
}

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m, d) => console.warn(`[jobs] ${m}`, d ?? ''),
  error: (m, d) => console.error(`[jobs] ${m}`, d ?? ''),
};

/** The `manual` testing mode: nothing runs until drainQueue(). */
export const manualRunner: Runner = {
  start: () => {},
  stop: () => {},
  committed: () => {},
  wake: () => {},
  inserted: (results) => Promise.resolve(results),
  attemptsEnded: () => undefined,
};

export function createContext(options: SchedulerOptions): JobsContext {
  const logger = options.logger ?? silentLogger;
  const emitter = new TypedEmitter<SchedulerEvents>(logger);
  const queues = new Map<string, QueueState>();
  for (const [name, limit] of Object.entries(options.queues ?? DEFAULTS.queues)) {
    validateLimit(limit, name);
    queues.set(name, { name, limit, paused: false, slots: 0 });
  }
  const workers = new Map<string, AnyWorker>();
  for (const w of options.workers) {
    if (workers.has(w.name)) throw new SfaError('BAD_REQUEST', `two workers are named ${w.name}`);
    if (!queues.has(w.queue)) throw new SfaError('BAD_REQUEST', `worker ${w.name} uses queue ${w.queue}, which is not configured`);
    workers.set(w.name, w);
  }
  const nodeId = options.nodeId ?? randomBytes(4).toString('hex');
  let claimSeq = 0;
  const ctx: JobsContext = {
    db: options.db,
    store: new JobStore(options.db),
    uow: new UnitOfWork(options.db, emitter, (changes) => ctx.runner.committed(changes)),
    workers,
    queues,
    clock: options.clock ?? { now: () => Date.now() },
    random: options.random ?? Math.random,
    logger,
    emitter,
    timings: {
      pruneAfterMs: options.pruneAfterMs ?? DEFAULTS.pruneAfterMs,
      pruneIntervalMs: options.pruneIntervalMs ?? DEFAULTS.pruneIntervalMs,
      progressEmitIntervalMs: options.progressEmitIntervalMs ?? DEFAULTS.progressEmitIntervalMs,
      progressWriteIntervalMs: options.progressWriteIntervalMs ?? DEFAULTS.progressWriteIntervalMs,
      abortGraceMs: options.abortGraceMs ?? DEFAULTS.abortGraceMs,
      externalPollMs: options.externalPollMs ?? DEFAULTS.externalPollMs,
    },
    executions: new Map(),
    lifecycle: { started: false, stopping: false },
    runner: manualRunner,
    newToken: () => `${nodeId}.${(++claimSeq).toString(36)}`,
  };
  return ctx;
}

export function queueState(ctx: JobsContext, name: string): QueueState {
  const q = ctx.queues.get(name);
  if (!q) throw new SfaError('BAD_REQUEST', `queue ${name} is not configured (queues: ${[...ctx.queues.keys()].join(', ')})`);
  return q;
}

export function resolveWorker(ctx: JobsContext, w: AnyWorker | string): AnyWorker {
  const name = typeof w === 'string' ? w : w.name;
  const worker = ctx.workers.get(name);
  if (!worker) throw new SfaError('BAD_REQUEST', `no worker named ${name} is registered with the scheduler`);
  return worker;
}

/** The entry appended to `job.errors` for a failed (or cancelled, rescued ...) attempt. */
export function errorEntry(attempt: number, now: number, info: ErrorInfo): JobError {
  return { attempt, at: new Date(now).toISOString(), error: info.message, code: info.code };
}

export function validateLimit(limit: number, queue: string): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new SfaError('BAD_REQUEST', `queue ${queue}: concurrency must be an integer 1..1000, got ${limit}`);
  }
}
