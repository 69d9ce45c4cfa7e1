import { randomBytes } from 'node:crypto';
import { SfaError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../shared/errors';
import { defaultBackoff, sanitizeBackoff } from './backoff';
import { TypedEmitter } from './events';
import { Throttle } from './progress';
import { CANCELLABLE_STATES, isFinal, isJobState, PENDING_STATES, RETRYABLE_FROM, type JobState } from './states';
import { JobStore, toJob, type JobRow } from './store';
import { argsMatch, emptyCounts } from './testing';
import { resolveUnique } from './unique';
import { validateMaxAttempts, validatePriority } from './worker';
import {
  DEFAULTS,
  type AnyWorker,
  type Clock,
  type CompletionTx,
  type DrainCounts,
  type DrainOptions,
  type EnqueuedFilter,
  type InsertOptions,
  type InsertResult,
  type Job,
  type JobError,
  type JobProgressEvent,
  type JobSpec,
  type JsonObject,
  type ListJobsOptions,
  type Logger,
  type PerformResult,
  type QueueInfo,
  type SchedulerEvents,
  type SchedulerOptions,
  type Stats,
  type TestingMode,
} from './types';

type Outcome =
  | { kind: 'ok'; value: unknown; then: JobSpec<unknown>[] }
  | { kind: 'error'; error: unknown; exception: boolean; timeout: boolean }
  | { kind: 'cancel'; reason: unknown }
  | { kind: 'snooze'; seconds: number }
  | { kind: 'discard'; reason: unknown };

/** How an attempt ended, for drainQueue counts ('stale': the claim was lost, nothing written). */
type AttemptResult = keyof DrainCounts | 'stale';

interface QueueState {
  name: string;
  limit: number;
  paused: boolean;
  /** Executions holding a slot: running performs, plus aborted ones within their grace period. */
  slots: number;
}

interface Execution {
  /** The row as claimed (fenced transitions build on it). */
  row: JobRow;
  job: Job;
  lastMessage: string | null;
  token: string;
  queue: QueueState | undefined;
  controller: AbortController;
  startedAt: number;
  /** The DB transition of this attempt happened (or was given up): later returns are ignored. */
  finalized: boolean;
  settled: boolean;
  slotHeld: boolean;
  hooks: ((tx: CompletionTx) => void)[];
  timeoutTimer?: ReturnType<typeof setTimeout>;
  graceTimer?: ReturnType<typeof setTimeout>;
  emitThrottle: Throttle<{ percent: number; message: string | null }>;
  writeThrottle: Throttle<{ percent: number; message: string | null }>;
  done: Promise<AttemptResult>;
  resolveDone: (r: AttemptResult) => void;
}

const RESCUE_MESSAGE = 'the app stopped while this job ran';
const SHUTDOWN_MESSAGE = 'the app was closing before this job finished; it will run again';
const STAGE_BATCH = 500;
const PRUNE_BATCH = 500;

const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: (m, d) => console.warn(`[jobs] ${m}`, d ?? ''),
  error: (m, d) => console.error(`[jobs] ${m}`, d ?? ''),
};

function errorInfoOf(value: unknown, fallbackCode: ErrorCode): ErrorInfo {
  if (typeof value === 'string') return { code: fallbackCode, message: value };
  if (value === undefined || value === null) return { code: fallbackCode, message: fallbackCode.toLowerCase().replace(/_/g, ' ') };
  return toErrorInfo(value);
}

function normalize(result: PerformResult): Outcome {
  if (result === undefined || result === null) return { kind: 'ok', value: undefined, then: [] };
  if (typeof result === 'object') {
    if ('ok' in result) return { kind: 'ok', value: result.ok, then: result.then ?? [] };
    if ('error' in result) return { kind: 'error', error: result.error, exception: false, timeout: false };
    if ('cancel' in result) return { kind: 'cancel', reason: result.cancel };
    if ('snooze' in result) {
      const s = result.snooze;
      if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return { kind: 'snooze', seconds: s };
      return {
        kind: 'error',
        error: new SfaError('BAD_REQUEST', `snooze needs seconds >= 0, got ${String(s)}`),
        exception: false,
        timeout: false,
      };
    }
    if ('discard' in result) return { kind: 'discard', reason: result.discard };
  }
  // A typo in a return value must not silently count as success.
  return {
    kind: 'error',
    error: new SfaError('INTERNAL', `perform returned an unrecognised value: ${JSON.stringify(result)?.slice(0, 200)}`),
    exception: false,
    timeout: false,
  };
}

/**
 * The scheduler: one better-sqlite3 connection, all SQL synchronous and short, all waiting done
 * with timers and promises. See README.md for the guarantees; the key invariants are:
 * - a claim is one UPDATE ... RETURNING (atomic, no double claim even across connections);
 * - every transition out of `executing` is fenced by the claim token, so a late return of an
 *   aborted/timed-out/rescued attempt writes nothing;
 * - a completion, its onComplete side effects, its follow-up jobs and the release of its
 *   dependents commit in one IMMEDIATE transaction (exactly-once completion);
 * - events are emitted only after the transaction that caused them has committed.
 */
export class Scheduler {
  readonly testing: TestingMode;
  private readonly db: SchedulerOptions['db'];
  private readonly store: JobStore;
  private readonly workers = new Map<string, AnyWorker>();
  private readonly queues = new Map<string, QueueState>();
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly nodeId: string;
  private readonly emitter: TypedEmitter<SchedulerEvents>;
  private readonly opts: Required<
    Pick<
      SchedulerOptions,
      'pruneAfterMs' | 'pruneIntervalMs' | 'progressEmitIntervalMs' | 'progressWriteIntervalMs' | 'abortGraceMs' | 'externalPollMs'
    >
  >;
  private readonly executions = new Map<number, Execution>();
  /**
   * One cached transaction wrapper: `.immediate(fn)` at top level (BEGIN IMMEDIATE), a SAVEPOINT
   * when called inside a transaction. Creating db.transaction() per call costs more than the SQL.
   */
  private readonly runTx: ((fn: () => unknown) => unknown) & { immediate: (fn: () => unknown) => unknown };
  /** Attempts whose end is decided but not yet written: written together in one transaction. */
  private finals: { exec: Execution; outcome: Outcome }[] = [];
  private finalsScheduled = false;

  private started = false;
  private stopping = false;
  private claimSeq = 0;
  private inTx = false;
  private outbox: (() => void)[] = [];
  private txAvailable: number[] = [];
  /** Jobs the last committed transaction made available (inline mode runs them). */
  private lastAvailable: number[] = [];
  private stageDirty = false;
  private dirtyQueues = new Set<string>();
  private dispatchPending = false;
  private stageTimer: ReturnType<typeof setTimeout> | undefined;
  private stageTimerAt = Number.POSITIVE_INFINITY;
  private pruneTimer: ReturnType<typeof setInterval> | undefined;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private lastDataVersion = -1;
  private stopPromise: Promise<void> | undefined;

  constructor(options: SchedulerOptions) {
    this.db = options.db;
    this.store = new JobStore(options.db);
    this.runTx = options.db.transaction((fn: () => unknown) => fn()) as unknown as Scheduler['runTx'];
    this.testing = options.testing ?? 'disabled';
    this.clock = options.clock ?? { now: () => Date.now() };
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? silentLogger;
    this.nodeId = options.nodeId ?? randomBytes(4).toString('hex');
    this.emitter = new TypedEmitter<SchedulerEvents>(this.logger);
    this.opts = {
      pruneAfterMs: options.pruneAfterMs ?? DEFAULTS.pruneAfterMs,
      pruneIntervalMs: options.pruneIntervalMs ?? DEFAULTS.pruneIntervalMs,
      progressEmitIntervalMs: options.progressEmitIntervalMs ?? DEFAULTS.progressEmitIntervalMs,
      progressWriteIntervalMs: options.progressWriteIntervalMs ?? DEFAULTS.progressWriteIntervalMs,
      abortGraceMs: options.abortGraceMs ?? DEFAULTS.abortGraceMs,
      externalPollMs: options.externalPollMs ?? DEFAULTS.externalPollMs,
    };
    for (const [name, limit] of Object.entries(options.queues ?? DEFAULTS.queues)) {
      validateLimit(limit, name);
      this.queues.set(name, { name, limit, paused: false, slots: 0 });
    }
    for (const w of options.workers) {
      if (this.workers.has(w.name)) throw new SfaError('BAD_REQUEST', `two workers are named ${w.name}`);
      if (!this.queues.has(w.queue)) throw new SfaError('BAD_REQUEST', `worker ${w.name} uses queue ${w.queue}, which is not configured`);
      this.workers.set(w.name, w);
    }
  }

  // ------------------------------------------------------------------ lifecycle

  /** Rescue orphans of a dead process, then start dispatch, the staging timer and the pruner. */
  start(): { rescued: number } {
    if (this.started) return { rescued: 0 };
    if (this.stopping) throw new SfaError('BAD_REQUEST', 'a stopped scheduler cannot be started again; create a new one');
    this.started = true;
    const rescued = this.rescueOrphans();
    if (this.testing !== 'disabled') return { rescued };
    this.stage(this.clock.now());
    this.armStageTimer(true);
    for (const q of this.queues.keys()) this.requestDispatch(q);
    this.pruneTimer = setInterval(() => void this.prune().catch((e) => this.logger.error('prune failed', e)), this.opts.pruneIntervalMs);
    this.pruneTimer.unref?.();
    this.lastDataVersion = this.store.dataVersion();
    this.pollTimer = setInterval(() => this.pollExternal(), this.opts.externalPollMs);
    this.pollTimer.unref?.();
    return { rescued };
  }

  /**
   * Stop claiming, let running jobs finish for `graceMs`, then abort the rest and put them back
   * as available without using up an attempt (a shutdown is not the job's fault). Idempotent.
   */
  stop(options: { graceMs?: number } = {}): Promise<void> {
    if (this.stopPromise) return this.stopPromise;
    this.stopping = true;
    this.clearTimers();
    this.stopPromise = (async () => {
      const graceMs = options.graceMs ?? DEFAULTS.stopGraceMs;
      const running = [...this.executions.values()].filter((e) => !e.finalized);
      if (running.length > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.all(running.map((e) => e.done)), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
        if (timer) clearTimeout(timer);
      }
      for (const exec of this.executions.values()) {
        if (exec.finalized) continue;
        exec.finalized = true;
        this.clearExecTimers(exec);
        exec.controller.abort(new SfaError('CANCELLED', 'the app is stopping'));
        try {
          const now = this.clock.now();
          this.tx(() => {
            const row = this.store.putBack(
              exec.job.id,
              exec.token,
              now,
              this.entry(exec.job.attempt, now, { code: 'SHUTDOWN', message: SHUTDOWN_MESSAGE }),
            );
            if (row) this.recordState(row, 'executing');
          });
        } catch (error) {
          this.logger.error(`could not put job ${exec.job.id} back; it will be rescued at next start`, error);
        }
        exec.resolveDone('stale');
      }
      this.started = false;
    })();
    return this.stopPromise;
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
    const results = this.insertAllSync(specs);
    if (this.testing === 'inline') {
      const runnable = results.filter(
        (r) => !r.conflict && (r.job.state === 'available' || (r.job.state === 'scheduled' && !r.job.waiting)),
      );
      await this.runInline(runnable.map((r) => r.job.id));
      return results.map((r) => ({ job: this.getJob(r.job.id) ?? r.job, conflict: r.conflict }));
    }
    return results;
  }

  /** Synchronous insertAll for callers inside other transactions or sync code (never runs inline). */
  insertAllSync(specs: JobSpec<unknown>[]): InsertResult[] {
    this.assertOpen();
    const now = this.clock.now();
    const insert = () => {
      const refs = new Map<string, number>();
      return specs.map((spec) => this.insertOne(spec, refs, now));
    };
    // One plain job is one INSERT statement, atomic on its own: skip BEGIN/COMMIT round trips.
    // Unique checks and dependencies read before they write, so they need BEGIN IMMEDIATE.
    const spec = specs[0];
    const single = specs.length === 1 && spec !== undefined && !spec.dependsOn?.length && !this.uniqueOf(spec);
    return single ? this.tx(insert, true) : this.tx(insert);
  }

  private uniqueOf(spec: JobSpec<unknown>) {
    if (spec.unique === false) return undefined;
    return spec.unique ?? this.resolveWorker(spec.worker).unique;
  }

  private insertOne(spec: JobSpec<unknown>, refs: Map<string, number>, now: number): InsertResult {
    const worker = this.resolveWorker(spec.worker);
    const queue = spec.queue ?? worker.queue;
    if (!this.queues.has(queue)) throw new SfaError('BAD_REQUEST', `queue ${queue} is not configured`);
    const priority = spec.priority ?? worker.priority;
    const maxAttempts = spec.maxAttempts ?? worker.maxAttempts;
    validatePriority(priority, `job for ${worker.name}`);
    validateMaxAttempts(maxAttempts, `job for ${worker.name}`);
    const args = (spec.args ?? {}) as JsonObject;
    if (typeof args !== 'object' || args === null || Array.isArray(args)) {
      throw new SfaError('BAD_REQUEST', `job args for ${worker.name} must be a JSON object`);
    }
    const meta = spec.meta ?? {};
    const tags = spec.tags ?? [];
    if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new SfaError('BAD_REQUEST', 'tags must be strings');
    const policy = spec.onDependencyFailure ?? 'cancel';
    if (policy !== 'cancel' && policy !== 'run') throw new SfaError('BAD_REQUEST', `onDependencyFailure must be 'cancel' or 'run'`);
    let scheduledAt = now;
    if (spec.scheduledAt !== undefined) scheduledAt = spec.scheduledAt instanceof Date ? spec.scheduledAt.getTime() : spec.scheduledAt;
    else if (spec.scheduleIn !== undefined) scheduledAt = now + spec.scheduleIn * 1000;
    if (!Number.isFinite(scheduledAt)) throw new SfaError('BAD_REQUEST', 'scheduledAt/scheduleIn must be finite');
    scheduledAt = Math.round(scheduledAt);
    if (spec.ref !== undefined && refs.has(spec.ref)) throw new SfaError('BAD_REQUEST', `ref "${spec.ref}" is used twice in one batch`);

    // Unique check and insert share this IMMEDIATE transaction: no other writer can slip between.
    const uniqueOptions = this.uniqueOf(spec);
    let uniqueKey: string | null = null;
    if (uniqueOptions) {
      const u = resolveUnique(uniqueOptions, { worker: worker.name, queue, args, meta }, now);
      const existing = this.store.findUnique(u.key, u.since, u.states);
      if (existing) {
        if (spec.ref !== undefined) refs.set(spec.ref, existing.id);
        return { job: toJob(existing), conflict: true };
      }
      uniqueKey = u.key;
    }

    // Dependencies: pending ones make the job wait; finished ones are recorded as resolved.
    const deps: { id: number; resolved: boolean }[] = [];
    let pending = 0;
    let failedDep: { id: number; state: JobState } | undefined;
    for (const ref of new Set(spec.dependsOn ?? [])) {
      const id = typeof ref === 'string' ? refs.get(ref) : ref;
      if (id === undefined) throw new SfaError('BAD_REQUEST', `dependsOn "${String(ref)}" does not name an earlier job of this batch`);
      const dep = this.store.get(id);
      if (!dep) throw new SfaError('NOT_FOUND', `job ${id} (a dependency) does not exist`);
      if (dep.state === 'completed') deps.push({ id, resolved: true });
      else if (dep.state === 'discarded' || dep.state === 'cancelled') {
        deps.push({ id, resolved: true });
        if (policy === 'cancel') failedDep ??= { id, state: dep.state };
      } else {
        deps.push({ id, resolved: false });
        pending++;
      }
    }
    const errors: JobError[] = [];
    let state: JobState;
    if (failedDep) {
      state = 'cancelled';
      errors.push(this.entry(0, now, { code: 'DEPENDENCY_FAILED', message: `dependency #${failedDep.id} was ${failedDep.state}` }));
      pending = 0;
    } else state = pending > 0 || scheduledAt > now ? 'scheduled' : 'available';

    const row = this.store.insert({
      state,
      queue,
      worker: worker.name,
      args: JSON.stringify(args),
      meta: JSON.stringify(meta),
      tags: JSON.stringify(tags),
      errors: JSON.stringify(errors),
      maxAttempts,
      priority,
      insertedAt: now,
      scheduledAt,
      cancelledAt: state === 'cancelled' ? now : null,
      uniqueKey,
      trackId: spec.trackId ?? null,
      depsPending: pending,
      onDependencyFailure: policy,
    });
    for (const d of deps) this.store.insertDependency(row.id, d.id, d.resolved);
    if (spec.ref !== undefined) refs.set(spec.ref, row.id);
    this.recordState(row, null);
    return { job: toJob(row), conflict: false };
  }

  private resolveWorker(w: AnyWorker | string): AnyWorker {
    const name = typeof w === 'string' ? w : w.name;
    const worker = this.workers.get(name);
    if (!worker) throw new SfaError('BAD_REQUEST', `no worker named ${name} is registered with the scheduler`);
    return worker;
  }

  // ------------------------------------------------------------------ user actions

  /**
   * Cancel a job. Waiting jobs become cancelled at once (and their dependents per policy); an
   * executing job is marked cancelled at once and its signal aborted: whatever perform returns
   * later is ignored (fenced), its queue slot is freed when it returns or after abortGraceMs.
   * Cancelling a finished job is a no-op that returns it unchanged.
   */
  cancel(id: number, reason = 'cancelled by user'): Job {
    const now = this.clock.now();
    const job = this.tx(() => {
      const row = this.store.get(id);
      if (!row) throw new SfaError('NOT_FOUND', `job ${id} does not exist`);
      if (!CANCELLABLE_STATES.includes(row.state)) return toJob(row);
      const error = this.entry(row.attempt, now, { code: 'CANCELLED', message: reason });
      const updated = row.state === 'executing' ? this.store.cancelExecuting(id, now, error) : this.store.cancelPending(id, now, error);
      if (!updated) return toJob(row);
      this.recordState(updated, row.state);
      this.resolveDependents(id, 'cancelled', now);
      return toJob(updated);
    });
    const exec = this.executions.get(id);
    if (exec && !exec.finalized && job.state === 'cancelled') {
      exec.finalized = true;
      this.clearExecTimers(exec);
      exec.controller.abort(new SfaError('CANCELLED', reason));
      this.emitter.emit('job:stop', { job, durationMs: now - exec.startedAt, queueTimeMs: queueTime(exec.job), state: 'cancelled' });
      exec.resolveDone('cancelled');
      this.holdSlotForGrace(exec);
    }
    return job;
  }

  /**
   * Make a discarded, cancelled or retryable job available now. Attempt budget: the attempt
   * count is kept (history stays true) and max_attempts is raised to attempt + 1 when spent, so
   * a retry always buys exactly one more attempt (Oban's retry_job). Dependencies are not
   * re-evaluated: a retried job runs even if it had been cancelled because of a dependency, and
   * dependents already cancelled stay cancelled (retry them too).
   */
  retry(id: number): Job {
    const now = this.clock.now();
    return this.tx(() => {
      const row = this.store.get(id);
      if (!row) throw new SfaError('NOT_FOUND', `job ${id} does not exist`);
      if (!RETRYABLE_FROM.includes(row.state)) {
        throw new SfaError('BAD_REQUEST', `job ${id} is ${row.state}; only discarded, cancelled or retryable jobs can be retried`);
      }
      const updated = this.store.retry(id, now);
      if (!updated) throw new SfaError('INTERNAL', `job ${id} changed while retrying`);
      this.recordState(updated, row.state);
      return toJob(updated);
    });
  }

  pauseQueue(queue: string): void {
    this.queueState(queue).paused = true;
    this.emitQueue(queue);
  }

  resumeQueue(queue: string): void {
    this.queueState(queue).paused = false;
    this.emitQueue(queue);
    this.requestDispatch(queue);
  }

  /** Change a queue's concurrency at run time; running jobs above a lowered limit finish normally. */
  scaleQueue(queue: string, limit: number): void {
    validateLimit(limit, queue);
    this.queueState(queue).limit = limit;
    this.emitQueue(queue);
    this.requestDispatch(queue);
  }

  // ------------------------------------------------------------------ reading

  getJob(id: number): Job | undefined {
    const row = this.store.get(id);
    return row ? toJob(row) : undefined;
  }

  /** Resolves with the job once it is completed, discarded or cancelled (in this process). */
  waitFor(id: number, options: { timeoutMs?: number } = {}): Promise<Job> {
    const row = this.store.get(id);
    if (!row) return Promise.reject(new SfaError('NOT_FOUND', `job ${id} does not exist`));
    if (isFinal(row.state)) return Promise.resolve(toJob(row));
    return new Promise<Job>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const off = this.emitter.on(`jobs:${id}`, (e) => {
        if (e.type === 'state' && isFinal(e.to)) {
          off();
          if (timer) clearTimeout(timer);
          resolve(e.job);
        }
      });
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          off();
          reject(new SfaError('JOB_TIMEOUT', `job ${id} did not finish within ${options.timeoutMs} ms`));
        }, options.timeoutMs);
      }
    });
  }

  listJobs(options: ListJobsOptions = {}): Job[] {
    const states = options.state === undefined ? undefined : Array.isArray(options.state) ? options.state : [options.state];
    if (states && !states.every(isJobState)) throw new SfaError('BAD_REQUEST', `unknown state in ${String(states)}`);
    const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 100)), 1000);
    return this.store
      .list({ states, queue: options.queue, worker: options.worker, trackId: options.trackId, before: options.before, limit })
      .map(toJob);
  }

  stats(): Stats {
    const zero = (): Record<JobState, number> => ({
      scheduled: 0,
      available: 0,
      executing: 0,
      retryable: 0,
      completed: 0,
      discarded: 0,
      cancelled: 0,
    });
    const totals = zero();
    const queues: Stats['queues'] = {};
    for (const q of this.queues.values()) queues[q.name] = { ...this.queueInfo(q), counts: zero() };
    for (const { queue, state, n } of this.store.countByQueueState()) {
      const entry = (queues[queue] ??= { limit: 0, paused: false, running: 0, counts: zero() });
      entry.counts[state] = n;
      totals[state] += n;
    }
    return { queues, totals };
  }

  /** The latest failed attempts (retryable or discarded jobs), newest first, with their errors. */
  recentFailures(n = 20): Job[] {
    return this.store.recentFailures(Math.min(Math.max(1, Math.floor(n)), 1000)).map(toJob);
  }

  queueInfo(q: QueueState | string): QueueInfo {
    const s = typeof q === 'string' ? this.queueState(q) : q;
    return { limit: s.limit, paused: s.paused, running: s.slots };
  }

  /** Subscribe to an event (`job:state`, `job:start`, `job:stop`, `job:exception`, `job:progress`, `queue:change`, `jobs:{id}`). */
  on<K extends keyof SchedulerEvents & string>(event: K, fn: (payload: SchedulerEvents[K]) => void): () => void {
    return this.emitter.on(event, fn);
  }

  /** Delete finished jobs older than `olderThanMs` (default pruneAfterMs), in short batches. */
  async prune(olderThanMs = this.opts.pruneAfterMs): Promise<number> {
    const before = this.clock.now() - olderThanMs;
    let total = 0;
    for (;;) {
      const n = this.tx(() => this.store.prune(before, PRUNE_BATCH));
      total += n;
      if (n < PRUNE_BATCH) return total;
      await new Promise((r) => setImmediate(r)); // let the event loop breathe between batches
    }
  }

  // ------------------------------------------------------------------ testing

  /** Jobs waiting to run (default states scheduled/available/retryable) matching the filter. */
  allEnqueued(filter: EnqueuedFilter = {}): Job[] {
    const states = filter.state === undefined ? [...PENDING_STATES] : Array.isArray(filter.state) ? filter.state : [filter.state];
    const worker = filter.worker === undefined ? undefined : typeof filter.worker === 'string' ? filter.worker : filter.worker.name;
    return this.store
      .list({ states, queue: filter.queue, worker, limit: 1_000_000 })
      .map(toJob)
      .filter((j) => argsMatch(j, filter.args))
      .reverse();
  }

  enqueued(filter: EnqueuedFilter = {}): boolean {
    return this.allEnqueued(filter).length > 0;
  }

  /**
   * Run jobs of a queue (or of every queue) to their end, one at a time, and count outcomes
   * (Oban.drain_queue). Meant for the `manual` testing mode. `withScheduled` stages scheduled
   * and retryable jobs whatever their due time; `withRecursion` keeps going with jobs that
   * become available while draining (follow-ups, released dependents, retries when
   * `withScheduled`), up to 10,000 attempts so an always-snoozing job cannot hang a test.
   */
  async drainQueue(options: DrainOptions = {}): Promise<DrainCounts> {
    const counts = emptyCounts();
    const queues = options.queue ? [this.queueState(options.queue).name] : [...this.queues.keys()];
    const stage = () => this.stage(options.withScheduled ? Number.MAX_SAFE_INTEGER : this.clock.now(), Number.MAX_SAFE_INTEGER);
    const runOne = async (id: number) => {
      const r = await this.runById(id);
      if (r && r !== 'stale') counts[r]++;
    };
    stage();
    if (!options.withRecursion) {
      for (const id of queues.flatMap((q) => this.store.availableIds(q))) await runOne(id);
      return counts;
    }
    for (let i = 0; i < 10_000; i++) {
      stage();
      const next = queues.map((q) => this.store.nextAvailableId(q)).find((id) => id !== undefined);
      if (next === undefined) return counts;
      await runOne(next);
    }
    throw new SfaError('INTERNAL', 'drainQueue ran 10,000 attempts without emptying the queue (a job that always snoozes?)');
  }

  // ------------------------------------------------------------------ internals: transactions & events

  /**
   * Run `fn` in an IMMEDIATE transaction; emit buffered events and dispatch only after commit.
   * `singleStatement`: fn issues exactly one write statement (autocommit is already atomic).
   */
  private tx<T>(fn: () => T, singleStatement = false): T {
    if (this.inTx) return fn();
    this.inTx = true;
    let result: T;
    try {
      result = singleStatement ? fn() : (this.runTx.immediate(fn) as T);
    } catch (error) {
      this.outbox = [];
      this.txAvailable = [];
      throw error;
    } finally {
      this.inTx = false;
    }
    this.lastAvailable = this.txAvailable;
    this.txAvailable = [];
    this.flush();
    return result;
  }

  private flush(): void {
    const events = this.outbox;
    this.outbox = [];
    for (const emit of events) emit();
    if (this.stageDirty) {
      this.stageDirty = false;
      this.armStageTimer(false);
    }
  }

  /** Record a committed-to-be state change: event after commit, dispatch/staging bookkeeping. */
  private recordState(row: JobRow, from: JobState | null): void {
    if (row.state === 'available') {
      this.txAvailable.push(row.id);
      this.requestDispatch(row.queue);
    } else if ((row.state === 'scheduled' || row.state === 'retryable') && row.deps_pending === 0) {
      this.stageDirty = true;
    }
    if (from === row.state) return;
    const hasState = this.emitter.hasListeners('job:state');
    const topic = `jobs:${row.id}` as const;
    const hasTopic = this.emitter.hasListeners(topic);
    if (!hasState && !hasTopic) return;
    const event = { job: toJob(row), from, to: row.state };
    const emit = () => {
      if (hasState) this.emitter.emit('job:state', event);
      if (hasTopic) this.emitter.emit(topic, { type: 'state', ...event });
    };
    if (this.inTx) this.outbox.push(emit);
    else emit();
  }

  private emitQueue(queue: string): void {
    this.emitter.emit('queue:change', { queue, info: this.queueInfo(queue) });
  }

  private entry(attempt: number, now: number, info: ErrorInfo): JobError {
    return { attempt, at: new Date(now).toISOString(), error: info.message, code: info.code };
  }

  private queueState(name: string): QueueState {
    const q = this.queues.get(name);
    if (!q) throw new SfaError('BAD_REQUEST', `queue ${name} is not configured (queues: ${[...this.queues.keys()].join(', ')})`);
    return q;
  }

  private assertOpen(): void {
    if (this.stopping) throw new SfaError('BAD_REQUEST', 'the job scheduler is stopped');
  }

  // ------------------------------------------------------------------ internals: dispatch & staging

  /** Coalesce dispatch requests of one macrotask into one claim per queue (no polling delay). */
  private requestDispatch(queue: string): void {
    if (!this.started || this.stopping || this.testing !== 'disabled') return;
    this.dirtyQueues.add(queue);
    if (this.dispatchPending) return;
    this.dispatchPending = true;
    setImmediate(() => {
      this.dispatchPending = false;
      const queues = [...this.dirtyQueues];
      this.dirtyQueues.clear();
      for (const q of queues) this.dispatch(q);
    });
  }

  private dispatch(name: string): void {
    if (!this.started || this.stopping || this.testing !== 'disabled') return;
    const q = this.queues.get(name);
    if (!q || q.paused) return;
    const free = q.limit - q.slots;
    if (free <= 0) return;
    let rows: JobRow[];
    try {
      rows = this.store.claim(name, free, this.clock.now(), this.newToken());
    } catch (error) {
      // SQLITE_BUSY beyond busy_timeout (another process holds the write lock): try again soon.
      this.logger.warn(`claim on queue ${name} failed; retrying`, error);
      setTimeout(() => this.requestDispatch(name), 50).unref?.();
      return;
    }
    for (const row of rows) {
      this.recordState(row, 'available');
      this.startExecution(row);
    }
  }

  private newToken(): string {
    return `${this.nodeId}.${(++this.claimSeq).toString(36)}`;
  }

  /** Move due scheduled/retryable jobs to available, in bounded batches. */
  private stage(now: number, limit = STAGE_BATCH): number {
    const rows = this.store.dueToStage(now, limit);
    if (rows.length === 0) return 0;
    this.tx(() => {
      for (const row of rows) {
        const updated = this.store.makeAvailable(row.id, row.state);
        if (updated) this.recordState(updated, row.state);
      }
    });
    if (rows.length === limit && this.testing === 'disabled') setImmediate(() => this.onStageTimer());
    return rows.length;
  }

  /** Arm the staging timer at the next due time (not a fixed poll). */
  private armStageTimer(force: boolean): void {
    if (!this.started || this.stopping || this.testing !== 'disabled') return;
    const next = this.store.nextDueAt();
    if (next === null) {
      if (this.stageTimer) clearTimeout(this.stageTimer);
      this.stageTimer = undefined;
      this.stageTimerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (!force && this.stageTimer && next >= this.stageTimerAt) return; // already armed early enough
    if (this.stageTimer) clearTimeout(this.stageTimer);
    const delay = Math.min(Math.max(0, next - this.clock.now()), DEFAULTS.maxStageDelayMs);
    this.stageTimerAt = next;
    this.stageTimer = setTimeout(() => this.onStageTimer(), delay);
  }

  private onStageTimer(): void {
    this.stageTimer = undefined;
    this.stageTimerAt = Number.POSITIVE_INFINITY;
    if (!this.started || this.stopping) return;
    try {
      this.stage(this.clock.now());
    } catch (error) {
      this.logger.warn('staging failed; retrying', error);
    }
    this.armStageTimer(true);
  }

  /** Another connection (the CLI) committed: its inserts may be due now. */
  private pollExternal(): void {
    try {
      const v = this.store.dataVersion();
      if (v === this.lastDataVersion) return;
      this.lastDataVersion = v;
      this.stage(this.clock.now());
      this.armStageTimer(true);
      for (const q of this.queues.keys()) this.requestDispatch(q);
    } catch (error) {
      this.logger.warn('external poll failed', error);
    }
  }

  private clearTimers(): void {
    if (this.stageTimer) clearTimeout(this.stageTimer);
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.stageTimer = this.pruneTimer = this.pollTimer = undefined;
  }

  // ------------------------------------------------------------------ internals: execution

  private rescueOrphans(): number {
    const orphans = this.store.executing().filter((r) => !this.executions.has(r.id));
    if (orphans.length === 0) return 0;
    const now = this.clock.now();
    this.tx(() => {
      for (const o of orphans) {
        const row = this.store.rescue(o.id, now, this.entry(o.attempt, now, { code: 'RESCUED', message: RESCUE_MESSAGE }));
        if (!row) continue;
        this.recordState(row, 'executing');
        if (row.state === 'discarded') this.resolveDependents(row.id, 'discarded', now);
      }
    });
    this.logger.warn(`rescued ${orphans.length} job(s) left executing by a stopped process`);
    return orphans.length;
  }

  /** Claim one job by id and run it to the end of its attempt (inline mode and drains). */
  private async runById(id: number): Promise<AttemptResult | undefined> {
    const before = this.store.get(id);
    const row = this.store.claimById(id, this.clock.now(), this.newToken());
    if (!row || !before) return undefined;
    this.recordState(row, before.state);
    return this.startExecution(row).done;
  }

  private async runInline(ids: number[]): Promise<void> {
    for (const id of ids) await this.runById(id);
  }

  private startExecution(row: JobRow): Execution {
    const job = toJob(row);
    const queue = this.queues.get(job.queue);
    let resolveDone!: (r: AttemptResult) => void;
    const now = this.clock.now();
    const exec: Execution = {
      row,
      job,
      lastMessage: null,
      token: job.attemptedBy ?? '',
      queue,
      controller: new AbortController(),
      startedAt: now,
      finalized: false,
      settled: false,
      slotHeld: true,
      hooks: [],
      emitThrottle: new Throttle(
        this.opts.progressEmitIntervalMs,
        () => this.clock.now(),
        (p) => this.emitProgress(exec, p),
      ),
      writeThrottle: new Throttle(
        this.opts.progressWriteIntervalMs,
        () => this.clock.now(),
        (p) => this.writeProgress(exec, p),
      ),
      done: new Promise<AttemptResult>((r) => (resolveDone = r)),
      resolveDone: (r) => resolveDone(r),
    };
    if (queue) queue.slots++;
    this.executions.set(job.id, exec);
    this.emitter.emit('job:start', { job, queueTimeMs: queueTime(job) });

    const worker = this.workers.get(job.worker);
    if (!worker) {
      this.settle(exec, {
        kind: 'error',
        error: new SfaError('INTERNAL', `no worker named ${job.worker} is registered in this build`),
        exception: false,
        timeout: false,
      });
      return exec;
    }
    if (Number.isFinite(worker.timeout)) {
      exec.timeoutTimer = setTimeout(() => {
        const error = new SfaError('JOB_TIMEOUT', `${job.worker} job ${job.id} timed out after ${worker.timeout} ms`);
        exec.controller.abort(error);
        this.finalize(exec, { kind: 'error', error, exception: false, timeout: true });
        if (!exec.settled) this.holdSlotForGrace(exec);
      }, worker.timeout);
    }
    const ctx = {
      signal: exec.controller.signal,
      attempt: job.attempt,
      logger: this.logger,
      progress: (percent: number, message?: string) => this.reportProgress(exec, percent, message),
      onComplete: (fn: (tx: CompletionTx) => void) => {
        exec.hooks.push(fn);
      },
    };
    let ret: PerformResult | Promise<PerformResult>;
    try {
      ret = worker.perform(job, ctx);
    } catch (error) {
      ret = Promise.reject(error);
    }
    Promise.resolve(ret).then(
      (r) => this.settle(exec, normalize(r)),
      (error: unknown) => this.settle(exec, { kind: 'error', error, exception: true, timeout: false }),
    );
    return exec;
  }

  /** perform() returned or threw. */
  private settle(exec: Execution, outcome: Outcome): void {
    exec.settled = true;
    if (exec.finalized) {
      this.logger.debug(`job ${exec.job.id}: late ${outcome.kind} ignored (attempt already ended)`);
    } else {
      this.finalize(exec, outcome);
    }
    this.releaseSlot(exec);
  }

  private holdSlotForGrace(exec: Execution): void {
    if (exec.settled || exec.graceTimer) return;
    exec.graceTimer = setTimeout(() => {
      if (!exec.settled) this.logger.warn(`job ${exec.job.id} ignored its abort signal for ${this.opts.abortGraceMs} ms; freeing its slot`);
      this.releaseSlot(exec);
    }, this.opts.abortGraceMs);
    exec.graceTimer.unref?.();
  }

  private releaseSlot(exec: Execution): void {
    if (exec.graceTimer) clearTimeout(exec.graceTimer);
    if (this.executions.get(exec.job.id) === exec && (exec.settled || exec.finalized)) this.executions.delete(exec.job.id);
    if (!exec.slotHeld) return;
    exec.slotHeld = false;
    if (exec.queue) {
      exec.queue.slots--;
      this.requestDispatch(exec.queue.name);
    }
  }

  private clearExecTimers(exec: Execution): void {
    if (exec.timeoutTimer) clearTimeout(exec.timeoutTimer);
    exec.timeoutTimer = undefined;
    exec.emitThrottle.cancel();
    exec.writeThrottle.cancel();
  }

  /**
   * Decide the end of this attempt. The write happens in flushFinals at the end of the current
   * microtask queue, together with every other attempt that ended in the same tick: one commit
   * for many completions (group commit), each in its own SAVEPOINT so one job's failing
   * completion hook rolls back only that job.
   */
  private finalize(exec: Execution, outcome: Outcome): void {
    if (exec.finalized) return;
    exec.finalized = true;
    this.clearExecTimers(exec);
    this.finals.push({ exec, outcome });
    if (!this.finalsScheduled) {
      this.finalsScheduled = true;
      queueMicrotask(() => this.flushFinals());
    }
  }

  private flushFinals(): void {
    this.finalsScheduled = false;
    const batch = this.finals;
    this.finals = [];
    if (batch.length === 0) return;
    const now = this.clock.now();
    let results: ({ row: JobRow; outcome: Outcome } | undefined)[];
    try {
      results = this.tx(() => batch.map(({ exec, outcome }) => this.applyInSavepoint(exec, outcome, now)));
    } catch (error) {
      this.logger.error(`could not record the end of ${batch.length} attempt(s); they will be rescued at next start`, error);
      results = batch.map(() => undefined);
    }
    const available = this.lastAvailable;
    this.lastAvailable = [];
    const endings: [Execution, AttemptResult][] = [];
    batch.forEach(({ exec }, i) => {
      const result = results[i];
      if (!result) {
        this.logger.debug(`job ${exec.job.id}: claim ${exec.token} no longer holds the job; outcome dropped`);
        endings.push([exec, 'stale']);
        return;
      }
      const { row, outcome: applied } = result;
      const job = toJob(row);
      this.emitter.emit('job:stop', { job, durationMs: now - exec.startedAt, queueTimeMs: queueTime(exec.job), state: row.state });
      if (applied.kind === 'error') {
        this.emitter.emit('job:exception', {
          job,
          error: errorInfoOf(applied.error, 'JOB_FAILED'),
          attempt: exec.job.attempt,
          kind: applied.timeout ? 'timeout' : applied.exception ? 'exception' : 'error',
        });
      }
      endings.push([
        exec,
        applied.kind === 'ok'
          ? 'success'
          : applied.kind === 'snooze'
            ? 'snoozed'
            : applied.kind === 'cancel'
              ? 'cancelled'
              : row.state === 'discarded'
                ? 'discarded'
                : 'failure',
      ]);
    });
    const resolveAll = () => endings.forEach(([exec, r]) => exec.resolveDone(r));
    // Inline mode runs what these completions released or inserted before reporting the end.
    if (this.testing === 'inline' && available.length > 0) void this.runInline(available).then(resolveAll);
    else resolveAll();
  }

  /** Apply one outcome in a savepoint; a failed completion (hook, follow-up) becomes an error. */
  private applyInSavepoint(exec: Execution, outcome: Outcome, now: number): { row: JobRow; outcome: Outcome } | undefined {
    const mark = [this.outbox.length, this.txAvailable.length] as const;
    const attempt = (o: Outcome) => {
      try {
        return this.runTx(() => this.applyOutcome(exec, o, now)) as { row: JobRow; outcome: Outcome } | undefined;
      } catch (error) {
        this.outbox.length = mark[0];
        this.txAvailable.length = mark[1];
        throw error;
      }
    };
    try {
      return attempt(outcome);
    } catch (error) {
      if (outcome.kind !== 'ok') {
        this.logger.error(`job ${exec.job.id}: could not record the end of its attempt; it will be rescued at next start`, error);
        return undefined;
      }
      try {
        return attempt({ kind: 'error', error, exception: true, timeout: false });
      } catch (inner) {
        this.logger.error(`job ${exec.job.id}: could not record its failure; it will be rescued at next start`, inner);
        return undefined;
      }
    }
  }

  private applyOutcome(exec: Execution, outcome: Outcome, now: number): { row: JobRow; outcome: Outcome } | undefined {
    const { job, token } = exec;
    let row: JobRow | undefined;
    switch (outcome.kind) {
      case 'ok': {
        const value = outcome.value === undefined ? null : JSON.stringify(outcome.value);
        row = this.store.complete(exec.row, now, value ?? null, exec.lastMessage);
        if (!row) return undefined; // fenced: this execution lost its claim, run no side effects
        const refs = new Map<string, number>();
        const tx: CompletionTx = {
          db: this.db,
          job: toJob(row),
          insert: (spec) => this.insertOne(spec, refs, now) as InsertResult<unknown>,
        };
        for (const hook of exec.hooks) hook(tx);
        for (const spec of outcome.then) this.insertOne(spec, refs, now);
        break;
      }
      case 'error': {
        const info = errorInfoOf(outcome.error, outcome.timeout ? 'JOB_TIMEOUT' : 'JOB_FAILED');
        const entry = this.entry(job.attempt, now, info);
        if (job.attempt >= job.maxAttempts) row = this.store.discard(job.id, token, now, entry);
        else row = this.store.retryLater(job.id, token, now + this.backoffSeconds(job, outcome.error) * 1000, entry);
        break;
      }
      case 'cancel':
        row = this.store.cancelExecution(job.id, token, now, this.entry(job.attempt, now, errorInfoOf(outcome.reason, 'CANCELLED')));
        break;
      case 'snooze':
        row = this.store.snooze(job.id, token, now + Math.round(outcome.seconds * 1000));
        break;
      case 'discard':
        row = this.store.discard(job.id, token, now, this.entry(job.attempt, now, errorInfoOf(outcome.reason, 'DISCARDED')));
        break;
    }
    if (!row) return undefined;
    this.recordState(row, 'executing');
    if (isFinal(row.state)) this.resolveDependents(row.id, row.state, now);
    return { row, outcome };
  }

  private backoffSeconds(job: Job, error: unknown): number {
    const fallback = defaultBackoff(job.attempt, this.random);
    const worker = this.workers.get(job.worker);
    if (!worker?.backoff) return fallback;
    try {
      return sanitizeBackoff(worker.backoff(job, error, { random: this.random }), fallback);
    } catch (e) {
      this.logger.warn(`backoff of ${job.worker} threw; using the default`, e);
      return fallback;
    }
  }

  /**
   * A job reached a final state: update the jobs waiting on it (inside the caller's transaction).
   * Completed (or failed with policy 'run') decrements deps_pending and releases the job at
   * zero; failed with policy 'cancel' cancels it, and that cancellation propagates in turn.
   */
  private resolveDependents(rootId: number, rootState: JobState, now: number): void {
    const work: [number, JobState][] = [[rootId, rootState]];
    while (work.length > 0) {
      const [id, state] = work.pop()!;
      for (const depId of this.store.takeDependents(id)) {
        const dep = this.store.get(depId);
        if (!dep || dep.state !== 'scheduled' || dep.deps_pending === 0) continue;
        if (state === 'completed' || dep.on_dependency_failure === 'run') {
          const row = this.store.releaseDependency(depId, now);
          if (row) this.recordState(row, 'scheduled');
        } else {
          const entry = this.entry(dep.attempt, now, { code: 'DEPENDENCY_FAILED', message: `dependency #${id} was ${state}` });
          const row = this.store.cancelPending(depId, now, entry);
          if (row) {
            this.recordState(row, 'scheduled');
            work.push([depId, 'cancelled']);
          }
        }
      }
    }
  }

  // ------------------------------------------------------------------ internals: progress

  private reportProgress(exec: Execution, percent: number, message?: string): void {
    if (exec.finalized || !Number.isFinite(percent)) return;
    const p = { percent: Math.min(100, Math.max(0, percent)), message: message ?? null };
    exec.lastMessage = p.message;
    const final = p.percent >= 100;
    exec.emitThrottle.push(p, final);
    exec.writeThrottle.push(p, final);
  }

  private emitProgress(exec: Execution, p: { percent: number; message: string | null }): void {
    if (exec.finalized) return;
    const event: JobProgressEvent = {
      id: exec.job.id,
      queue: exec.job.queue,
      worker: exec.job.worker,
      percent: p.percent,
      message: p.message,
      at: this.clock.now(),
    };
    this.emitter.emit('job:progress', event);
    this.emitter.emit(`jobs:${exec.job.id}`, { type: 'progress', ...event });
  }

  private writeProgress(exec: Execution, p: { percent: number; message: string | null }): void {
    if (exec.finalized) return;
    try {
      this.store.progress(exec.job.id, exec.token, p.percent, p.message, this.clock.now());
    } catch (error) {
      this.logger.warn(`job ${exec.job.id}: progress snapshot not written`, error);
    }
  }
}

function queueTime(job: Job): number {
  return Math.max(0, (job.attemptedAt ?? job.scheduledAt) - job.scheduledAt);
}

function validateLimit(limit: number, queue: string): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new SfaError('BAD_REQUEST', `queue ${queue}: concurrency must be an integer 1..1000, got ${limit}`);
  }
}

export function createScheduler(options: SchedulerOptions): Scheduler {
  return new Scheduler(options);
}
