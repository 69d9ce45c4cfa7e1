import { SfaError } from '../../shared/errors';
import { errorEntry, type JobsContext } from './context';
import { resolveDependents } from './dependencies';
import type { Executor } from './executing';
import { CANCELLABLE_STATES, RETRYABLE_FROM } from './states';
import { toJob } from './store';
import type { Job } from './types';

/**
 * Cancel a job. Waiting jobs become cancelled at once (and their dependents per policy); an
 * executing job is marked cancelled at once and its signal aborted: whatever perform returns
 * later is ignored (fenced), its queue slot is freed when it returns or after abortGraceMs.
 * Cancelling a finished job is a no-op that returns it unchanged.
 */
export function cancelJob(ctx: JobsContext, executor: Executor, id: number, reason: string): Job {
  const now = ctx.clock.now();
  const job = ctx.uow.tx(() => {
    const row = ctx.store.get(id);
    if (!row) throw new SfaError('NOT_FOUND', `job ${id} does not exist`);
    if (!CANCELLABLE_STATES.includes(row.state)) return toJob(row);
    const error = errorEntry(row.attempt, now, { code: 'CANCELLED', message: reason });
    const updated = row.state === 'executing' ? ctx.store.cancelExecuting(id, now, error) : ctx.store.cancelPending(id, now, error);
    if (!updated) return toJob(row);
    ctx.uow.record(updated, row.state);
    resolveDependents(ctx, id, 'cancelled', now);
    return toJob(updated);
  });
  executor.abortCancelled(job, reason, now);
  return job;
}

/**
 * Make a discarded, cancelled or retryable job available now. Attempt budget: the attempt
 * count is kept (history stays true) and max_attempts is raised to attempt + 1 when spent, so
 * a retry always buys exactly one more attempt (Oban's retry_job). Dependencies are not
 * re-evaluated: a retried job runs even if it had been cancelled because of a dependency, and
 * dependents already cancelled stay cancelled (retry them too).
 */
export function retryJob(ctx: JobsContext, id: number): Job {
  const now = ctx.clock.now();
  return ctx.uow.tx(() => {
    const row = ctx.store.get(id);
    if (!row) throw new SfaError('NOT_FOUND', `job ${id} does not exist`);
    if (!RETRYABLE_FROM.includes(row.state)) {
      throw new SfaError('BAD_REQUEST', `job ${id} is ${row.state}; only discarded, cancelled or retryable jobs can be retried`);
    }
    const updated = ctx.store.retry(id, now);
    if (!updated) throw new SfaError('INTERNAL', `job ${id} changed while retrying`);
    ctx.uow.record(updated, row.state);
    return toJob(updated);
  });
}
