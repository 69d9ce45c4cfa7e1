import type { JobInfo, JobState, QueueStats } from '../../shared/domain';
import type { Job, Stats } from '../jobs';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A scheduler job as the contract shows it. */
export function jobInfo(job: Job<unknown>): JobInfo {
  return {
    id: job.id,
    queue: job.queue,
    worker: job.worker,
    state: job.state,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    priority: job.priority,
    trackId: job.trackId,
    progress: job.progress ? { percent: job.progress.percent, message: job.progress.message } : null,
    errors: job.errors,
    waiting: job.waiting,
    insertedAt: iso(job.insertedAt)!,
    scheduledAt: iso(job.scheduledAt)!,
    attemptedAt: iso(job.attemptedAt),
    finishedAt: iso(job.completedAt ?? job.discardedAt ?? job.cancelledAt),
    args: (job.args ?? {}) as Record<string, unknown>,
    meta: job.meta,
    result: job.result ?? null,
    node: job.node ?? null,
  };
}

export function queueStats(stats: Stats): QueueStats[] {
  return Object.entries(stats.queues).map(([name, q]) => ({
    name,
    limit: q.limit,
    paused: q.paused,
    running: q.running,
    counts: q.counts as Record<JobState, number>,
  }));
}
