import { SfaError } from '../../shared/errors';
import { cancelJob, retryJob } from './actions';
import { createContext, manualRunner, queueState, type JobsContext, type Runner } from './context';
import { Executor } from './executing';
import { InlineRunner } from './inline';
import { insertBatch } from './inserting';
import { LiveRunner } from './live';
import { changeQueue, queueInfo } from './producing';
import { prune } from './pruning';
import { isIdle, listJobs, recentFailures, stats, waitFor } from './reading';
import { rescueOrphans } from './rescue';
import { toJob } from './store';
import { allEnqueued, drainQueue } from './testing';
import type {
  AnyWorker,
  DrainCounts,
  DrainOptions,
  EnqueuedFilter,
  InsertOptions,
  InsertResult,
  Job,
  JobSpec,
  JsonObject,
  ListJobsOptions,
  QueueInfo,
  SchedulerEvents,
  SchedulerOptions,
  Stats,
  TestingMode,
} from './types';

/**
 * The scheduler: one better-sqlite3 connection, all SQL synchronous and short, all waiting done
 * with timers and promises. This class is the public face; the work is done by parts sharing
 * one JobsContext (README.md "Layout"). Key invariants (README "Guarantees"):
 * - a claim is one UPDATE ... RETURNING (atomic, no double claim even across connections);
 * - every transition out of `executing` is fenced by the claim token, so a late return of an
 *   aborted/timed-out/rescued attempt writes nothing;
 * - a completion, its onComplete side effects, its follow-up jobs and the release of its
 *   dependents commit in one IMMEDIATE transaction (exactly-once completion);
 * - events are emitted only after the transaction that caused them has committed.
 */
export class Scheduler {
  readonly testing: TestingMode;
  private readonly ctx: JobsContext;
  private readonly executor: Executor;
  private stopPromise: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.testing = options.testing ?? 'disabled';
    this.ctx = createContext(options);
    this.executor = new Executor(this.ctx);
    this.ctx.runner = createRunner(this.testing, this.ctx, this.executor);
  }

  // ------------------------------------------------------------------ lifecycle

  /** Rescue orphans of a dead process, then start dispatch, the staging timer and the pruner. */
  start(): { rescued: number } {
    const { lifecycle } = this.ctx;
    if (lifecycle.started) return { rescued: 0 };
    if (lifecycle.stopping) throw new SfaError('BAD_REQUEST', 'a stopped scheduler cannot be started again; create a new one');
    lifecycle.started = true;
    const rescued = rescueOrphans(this.ctx);
    this.ctx.runner.start();
    return { rescued };
  }

  /**
   * Stop claiming, let running jobs finish for `graceMs`, then abort the rest and put them back
   * as available without using up an attempt (a shutdown is not the job's fault). Idempotent.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.ctx.lifecycle.stopping = true;
    this.ctx.runner.stop();
    this.stopPromise = this.executor.shutdown(options.graceMs);
    return this.stopPromise;
  }

  /** Whether stop() was called: the scheduler claims and runs nothing more. */
  get stopped(): boolean {
    return this.ctx.lifecycle.stopping;
  }

  // ------------------------------------------------------------------ insert

  /** Insert one job. A unique conflict resolves to the existing job with `conflict: true`. */
  async insert<A = JsonObject>(worker: AnyWorker | string, args?: A, options: InsertOptions = {}): Promise<InsertResult<A>> {
    const [result] = await this.insertAll([{ ...options, worker, args: args as unknown as JsonObject }]);
    return result as unknown as InsertResult<A>;
  }

  /**
   * Insert jobs in one transaction (all or nothing). Specs may name themselves with `ref` and
   * depend on earlier specs' refs. In inline testing mode the inserted jobs run before this resolves.
   */
  async insertAll(specs: JobSpec<unknown>[]): Promise<InsertResult[]> {
    return this.ctx.runner.inserted(this.insertAllSync(specs));
  }

  /** Synchronous insertAll for callers inside other transactions or sync code (never runs inline). */
  insertAllSync(specs: JobSpec<unknown>[]): InsertResult[] {
    if (this.ctx.lifecycle.stopping) throw new SfaError('BAD_REQUEST', 'the job scheduler is stopped');
    return insertBatch(this.ctx, specs);
  }

  // ------------------------------------------------------------------ user actions

  /** Cancel a job: at once when waiting; a running one is aborted (actions.ts has the details). */
  cancel(id: number, reason = 'cancelled by user'): Job {
    return cancelJob(this.ctx, this.executor, id, reason);
  }

  /** Make a discarded, cancelled or retryable job available now, with one more attempt. */
  retry(id: number): Job {
    return retryJob(this.ctx, id);
  }

  pauseQueue(queue: string): void {
    changeQueue(this.ctx, queue, { paused: true });
  }

  resumeQueue(queue: string): void {
    changeQueue(this.ctx, queue, { paused: false });
  }

  /** Change a queue's concurrency at run time; running jobs above a lowered limit finish normally. */
  scaleQueue(queue: string, limit: number): void {
    changeQueue(this.ctx, queue, { limit });
  }

  // ------------------------------------------------------------------ reading

  getJob(id: number): Job | undefined {
    const row = this.ctx.store.get(id);
    return row ? toJob(row) : undefined;
  }

  /** Resolves with the job once it is completed, discarded or cancelled (in this process). */
  waitFor(id: number, options: { timeoutMs?: number } = {}): Promise<Job> {
    return waitFor(this.ctx, id, options);
  }

  listJobs(options: ListJobsOptions = {}): Job[] {
    return listJobs(this.ctx, options);
  }

  stats(): Stats {
    return stats(this.ctx);
  }

  /** No job available, executing or due now, in any queue (see reading.ts). */
  isIdle(now = this.ctx.clock.now()): boolean {
    return isIdle(this.ctx, now);
  }

  /** The latest failed attempts (retryable or discarded jobs), newest first, with their errors. */
  recentFailures(n = 20): Job[] {
    return recentFailures(this.ctx, n);
  }

  queueInfo(queue: string): QueueInfo {
    return queueInfo(queueState(this.ctx, queue));
  }

  /** Subscribe to an event (`job:state`, `job:start`, `job:stop`, `job:exception`, `job:progress`, `queue:change`, `jobs:{id}`). */
  on<K extends keyof SchedulerEvents & string>(event: K, fn: (payload: SchedulerEvents[K]) => void): () => void {
    return this.ctx.emitter.on(event, fn);
  }

  /** Delete finished jobs older than `olderThanMs` (default pruneAfterMs), in short batches. */
  prune(olderThanMs?: number): Promise<number> {
    return prune(this.ctx, olderThanMs);
  }

  // ------------------------------------------------------------------ testing

  /** Jobs waiting to run (default states scheduled/available/retryable) matching the filter. */
  allEnqueued(filter: EnqueuedFilter = {}): Job[] {
    return allEnqueued(this.ctx, filter);
  }

  enqueued(filter: EnqueuedFilter = {}): boolean {
    return this.allEnqueued(filter).length > 0;
  }

  /** Run available jobs one at a time and count outcomes (Oban.drain_queue; testing.ts). */
  drainQueue(options: DrainOptions = {}): Promise<DrainCounts> {
    return drainQueue(this.ctx, this.executor, options);
  }
}

function createRunner(mode: TestingMode, ctx: JobsContext, executor: Executor): Runner {
  switch (mode) {
    case 'disabled':
      return new LiveRunner(ctx, executor);
    case 'inline':
      return new InlineRunner(ctx, executor);
    case 'manual':
      return manualRunner;
  }
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  return new Scheduler(options);
}
