import { defaultBackoff, sanitizeBackoff } from './backoff';
import { errorEntry, type JobsContext } from './context';
import { resolveDependents } from './dependencies';
import { clearExecTimers, queueTime, type Execution } from './execution';
import { insertOne, type Refs } from './inserting';
import { attemptResultOf, errorInfoOf, errorOutcome, type AttemptResult, type Outcome } from './outcome';
import { isFinal } from './states';
import { toJob, type JobRow } from './store';
import type { CompletionTx, InsertResult, Job } from './types';

type Applied = { row: JobRow; outcome: Outcome } | undefined;

/**
 * Group commit: attempts whose end is decided in the same tick are written in one transaction
 * at the end of the microtask queue, each in its own SAVEPOINT so one job's failing completion
 * hook rolls back only that job.
 */
export class Completer {
  private pending: { exec: Execution; outcome: Outcome }[] = [];
  private flushScheduled = false;

  constructor(private readonly ctx: JobsContext) {}

  /** Decide the end of this attempt; it is written with the others of this tick. */
  finalize(exec: Execution, outcome: Outcome): void {
    if (exec.finalized) return;
    exec.finalized = true;
    clearExecTimers(exec);
    this.pending.push({ exec, outcome });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  private flush(): void {
    const { ctx } = this;
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const now = ctx.clock.now();
    let results: Applied[] = batch.map(() => undefined);
    let madeAvailable: number[] = [];
    try {
      const committed = ctx.uow.commit(() => batch.map(({ exec, outcome }) => this.applyInSavepoint(exec, outcome, now)));
      results = committed.result;
      madeAvailable = committed.changes.available.map((a) => a.id);
    } catch (error) {
      ctx.logger.error(`could not record the end of ${batch.length} attempt(s); they will be rescued at next start`, error);
    }
    const endings = batch.map(({ exec }, i): [Execution, AttemptResult] => {
      const result = results[i];
      if (!result) {
        ctx.logger.debug(`job ${exec.job.id}: claim ${exec.token} no longer holds the job; outcome dropped`);
        return [exec, 'stale'];
      }
      const { row, outcome } = result;
      const job = toJob(row);
      ctx.emitter.emit('job:stop', { job, durationMs: now - exec.startedAt, queueTimeMs: queueTime(exec.job), state: row.state });
      if (outcome.kind === 'error') {
        ctx.emitter.emit('job:exception', {
          job,
          error: errorInfoOf(outcome.error, 'JOB_FAILED'),
          attempt: exec.job.attempt,
          kind: outcome.timeout ? 'timeout' : outcome.exception ? 'exception' : 'error',
        });
      }
      return [exec, attemptResultOf(outcome, row.state)];
    });
    const resolveAll = () => endings.forEach(([exec, r]) => exec.resolveDone(r));
    // The inline runner runs what these completions released or inserted before the end is reported.
    const ran = ctx.runner.attemptsEnded(madeAvailable);
    if (ran) void ran.then(resolveAll);
    else resolveAll();
  }

  /** Apply one outcome in a savepoint; a failed completion (hook, follow-up) becomes an error. */
  private applyInSavepoint(exec: Execution, outcome: Outcome, now: number): Applied {
    const { ctx } = this;
    const attempt = (o: Outcome) => ctx.uow.savepoint(() => this.apply(exec, o, now));
    try {
      return attempt(outcome);
    } catch (error) {
      if (outcome.kind !== 'ok') {
        ctx.logger.error(`job ${exec.job.id}: could not record the end of its attempt; it will be rescued at next start`, error);
        return undefined;
      }
      try {
        return attempt(errorOutcome(error, { exception: true }));
      } catch (inner) {
        ctx.logger.error(`job ${exec.job.id}: could not record its failure; it will be rescued at next start`, inner);
        return undefined;
      }
    }
  }

  private apply(exec: Execution, outcome: Outcome, now: number): Applied {
    const { ctx } = this;
    const { job, token } = exec;
    let row: JobRow | undefined;
    switch (outcome.kind) {
      case 'ok': {
        const value = outcome.value === undefined ? null : JSON.stringify(outcome.value);
        row = ctx.store.complete(exec.row, now, value ?? null, exec.lastMessage);
        if (!row) return undefined; // fenced: this execution lost its claim, run no side effects
        const refs: Refs = new Map();
        const tx: CompletionTx = {
          db: ctx.db,
          job: toJob(row),
          insert: (spec) => insertOne(ctx, spec, refs, now) as InsertResult<unknown>,
        };
        for (const hook of exec.hooks) hook(tx);
        for (const spec of outcome.then) insertOne(ctx, spec, refs, now);
        break;
      }
      case 'error': {
        const entry = errorEntry(job.attempt, now, errorInfoOf(outcome.error, outcome.timeout ? 'JOB_TIMEOUT' : 'JOB_FAILED'));
        if (job.attempt >= job.maxAttempts) row = ctx.store.discard(job.id, token, now, entry);
        else row = ctx.store.retryLater(job.id, token, now + this.backoffSeconds(job, outcome.error) * 1000, entry);
        break;
      }
      case 'cancel':
        row = ctx.store.cancelExecution(job.id, token, now, errorEntry(job.attempt, now, errorInfoOf(outcome.reason, 'CANCELLED')));
        break;
      case 'snooze':
        row = ctx.store.snooze(job.id, token, now + Math.round(outcome.seconds * 1000), now, exec.lastMessage);
        break;
      case 'discard':
        row = ctx.store.discard(job.id, token, now, errorEntry(job.attempt, now, errorInfoOf(outcome.reason, 'DISCARDED')));
        break;
    }
    if (!row) return undefined;
    ctx.uow.record(row, 'executing');
    if (isFinal(row.state)) resolveDependents(ctx, row.id, row.state, now);
    return { row, outcome };
  }

  private backoffSeconds(job: Job, error: unknown): number {
    const { ctx } = this;
    const fallback = defaultBackoff(job.attempt, ctx.random);
    const worker = ctx.workers.get(job.worker);
    if (!worker?.backoff) return fallback;
    try {
      return sanitizeBackoff(worker.backoff(job, error, { random: ctx.random }), fallback);
    } catch (e) {
      ctx.logger.warn(`backoff of ${job.worker} threw; using the default`, e);
      return fallback;
    }
  }
}
