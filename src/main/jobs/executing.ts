import { SfaError } from '../../shared/errors';
import { Completer } from './completing';
import { errorEntry, type JobsContext } from './context';
import { clearExecTimers, createExecution, queueTime, reportProgress, type Execution } from './execution';
import { errorOutcome, normalize, type AttemptResult, type Outcome } from './outcome';
import type { JobRow } from './store';
import { DEFAULTS, type CompletionTx, type Job, type PerformResult } from './types';

const SHUTDOWN_MESSAGE = 'the app was closing before this job finished; it will run again';

/**
 * Runs attempts: calls perform, enforces the timeout, holds the queue slot (also through the
 * abort grace period), and hands each attempt's end to the Completer.
 */
export class Executor {
  private readonly completer: Completer;

  constructor(private readonly ctx: JobsContext) {
    this.completer = new Completer(ctx);
  }

  /** Start the attempt of a freshly claimed row (the claim is already recorded). */
  start(row: JobRow): Execution {
    const { ctx } = this;
    const exec = createExecution(ctx, row);
    const { job } = exec;
    if (exec.queue) exec.queue.slots++;
    ctx.executions.set(job.id, exec);
    ctx.emitter.emit('job:start', { job, queueTimeMs: queueTime(job) });

    const worker = ctx.workers.get(job.worker);
    if (!worker) {
      this.settle(exec, errorOutcome(new SfaError('INTERNAL', `no worker named ${job.worker} is registered in this build`)));
      return exec;
    }
    if (Number.isFinite(worker.timeout)) {
      exec.timeoutTimer = setTimeout(() => {
        const error = new SfaError('JOB_TIMEOUT', `${job.worker} job ${job.id} timed out after ${worker.timeout} ms`);
        exec.controller.abort(error);
        this.completer.finalize(exec, errorOutcome(error, { timeout: true }));
        if (!exec.settled) this.holdSlotForGrace(exec);
      }, worker.timeout);
    }
    const performCtx = {
      signal: exec.controller.signal,
      attempt: job.attempt,
      logger: ctx.logger,
      progress: (percent: number, message?: string) => reportProgress(exec, percent, message),
      onComplete: (fn: (tx: CompletionTx) => void) => {
        exec.hooks.push(fn);
      },
    };
    let ret: PerformResult | Promise<PerformResult>;
    try {
      ret = worker.perform(job, performCtx);
    } catch (error) {
      ret = Promise.reject(error);
    }
    Promise.resolve(ret).then(
      (r) => this.settle(exec, normalize(r)),
      (error: unknown) => this.settle(exec, errorOutcome(error, { exception: true })),
    );
    return exec;
  }

  /** Claim one job by id and run it to the end of its attempt (inline mode and drains). */
  async runById(id: number): Promise<AttemptResult | undefined> {
    const { ctx } = this;
    const before = ctx.store.get(id);
    const row = ctx.store.claimById(id, ctx.clock.now(), ctx.newToken());
    if (!row || !before) return undefined;
    ctx.uow.record(row, before.state);
    return this.start(row).done;
  }

  /** cancel(id) committed `cancelled` for a job this process runs: abort it, free its slot later. */
  abortCancelled(job: Job, reason: string, now: number): void {
    const exec = this.ctx.executions.get(job.id);
    if (!exec || exec.finalized || job.state !== 'cancelled') return;
    exec.finalized = true;
    clearExecTimers(exec);
    exec.controller.abort(new SfaError('CANCELLED', reason));
    this.ctx.emitter.emit('job:stop', { job, durationMs: now - exec.startedAt, queueTimeMs: queueTime(exec.job), state: 'cancelled' });
    exec.resolveDone('cancelled');
    this.holdSlotForGrace(exec);
  }

  /**
   * stop(): let running attempts finish for `graceMs`, then abort the rest and put them back as
   * available without using up an attempt (a shutdown is not the job's fault). The scheduler
   * counts as stopped once they are back.
   */
  async shutdown(graceMs: number = DEFAULTS.stopGraceMs): Promise<void> {
    const { ctx } = this;
    const running = [...ctx.executions.values()].filter((e) => !e.finalized);
    if (running.length > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([Promise.all(running.map((e) => e.done)), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      if (timer) clearTimeout(timer);
    }
    for (const exec of ctx.executions.values()) {
      if (exec.finalized) continue;
      exec.finalized = true;
      clearExecTimers(exec);
      exec.controller.abort(new SfaError('CANCELLED', 'the app is stopping'));
      try {
        const now = ctx.clock.now();
        ctx.uow.tx(() => {
          const entry = errorEntry(exec.job.attempt, now, { code: 'SHUTDOWN', message: SHUTDOWN_MESSAGE });
          const row = ctx.store.putBack(exec.job.id, exec.token, now, entry);
          if (row) ctx.uow.record(row, 'executing');
        });
      } catch (error) {
        ctx.logger.error(`could not put job ${exec.job.id} back; it will be rescued at next start`, error);
      }
      exec.resolveDone('stale');
    }
    ctx.lifecycle.started = false;
  }

  /** perform() returned or threw. */
  private settle(exec: Execution, outcome: Outcome): void {
    exec.settled = true;
    if (exec.finalized) this.ctx.logger.debug(`job ${exec.job.id}: late ${outcome.kind} ignored (attempt already ended)`);
    else this.completer.finalize(exec, outcome);
    this.releaseSlot(exec);
  }

  private holdSlotForGrace(exec: Execution): void {
    if (exec.settled || exec.graceTimer) return;
    const { abortGraceMs } = this.ctx.timings;
    exec.graceTimer = setTimeout(() => {
      if (!exec.settled) this.ctx.logger.warn(`job ${exec.job.id} ignored its abort signal for ${abortGraceMs} ms; freeing its slot`);
      this.releaseSlot(exec);
    }, abortGraceMs);
    exec.graceTimer.unref?.();
  }

  private releaseSlot(exec: Execution): void {
    const { ctx } = this;
    if (exec.graceTimer) clearTimeout(exec.graceTimer);
    if (ctx.executions.get(exec.job.id) === exec && (exec.settled || exec.finalized)) ctx.executions.delete(exec.job.id);
    if (!exec.slotHeld) return;
    exec.slotHeld = false;
    if (exec.queue) {
      exec.queue.slots--;
      ctx.runner.wake(exec.queue.name);
    }
  }
}
