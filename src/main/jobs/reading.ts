import { SfaError } from '../../shared/errors';
import type { JobsContext } from './context';
import { queueInfo } from './producing';
import { isFinal, isJobState, JOB_STATES, type JobState } from './states';
import { toJob } from './store';
import type { Job, ListJobsOptions, Stats } from './types';

/** Resolves with the job once it is completed, discarded or cancelled (in this process). */
export function waitFor(ctx: JobsContext, id: number, options: { timeoutMs?: number } = {}): Promise<Job> {
  const row = ctx.store.get(id);
  if (!row) return Promise.reject(new SfaError('NOT_FOUND', `job ${id} does not exist`));
  if (isFinal(row.state)) return Promise.resolve(toJob(row));
  return new Promise<Job>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = ctx.emitter.on(`jobs:${id}`, (e) => {
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

export function listJobs(ctx: JobsContext, options: ListJobsOptions = {}): Job[] {
  const states = options.state === undefined ? undefined : Array.isArray(options.state) ? options.state : [options.state];
  if (states && !states.every(isJobState)) throw new SfaError('BAD_REQUEST', `unknown state in ${String(states)}`);
  const limit = Math.min(Math.max(1, Math.floor(options.limit ?? 100)), 1000);
  return ctx.store
    .list({ states, queue: options.queue, worker: options.worker, trackId: options.trackId, before: options.before, limit })
    .map(toJob);
}

export function stats(ctx: JobsContext): Stats {
  const zero = () => Object.fromEntries(JOB_STATES.map((s) => [s, 0])) as Record<JobState, number>;
  const totals = zero();
  const queues: Stats['queues'] = {};
  for (const q of ctx.queues.values()) queues[q.name] = { ...queueInfo(q), counts: zero() };
  for (const { queue, state, n } of ctx.store.countByQueueState()) {
    const entry = (queues[queue] ??= { limit: 0, paused: false, running: 0, counts: zero() });
    entry.counts[state] = n;
    totals[state] += n;
  }
  return { queues, totals };
}

/**
 * Nothing available or executing and nothing due by `now` (a retry later is not "now"; a job
 * waiting on dependencies is not due). Two index lookups, so polling it over a 100,000-job
 * library costs what it costs over an empty one.
 */
export function isIdle(ctx: JobsContext, now: number): boolean {
  if (ctx.store.anyRunnable()) return false;
  const nextDue = ctx.store.nextDueAt();
  return nextDue === null || nextDue > now;
}

/** The latest failed attempts (retryable or discarded jobs), newest first, with their errors. */
export function recentFailures(ctx: JobsContext, n = 20): Job[] {
  return ctx.store.recentFailures(Math.min(Math.max(1, Math.floor(n)), 1000)).map(toJob);
}
