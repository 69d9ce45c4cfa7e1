import { SfaError } from '../../../shared/errors';
import { waitIdle } from '../../library/run-now';
import type { Handlers } from '../index';
import { assertWritable, type Services } from '../services';
import { jobInfo, queueStats } from '../views';

type JobHandlers = Pick<
  Handlers,
  | 'jobs.list'
  | 'jobs.get'
  | 'jobs.cancel'
  | 'jobs.retry'
  | 'jobs.wait'
  | 'jobs.failures'
  | 'queues.list'
  | 'queues.pause'
  | 'queues.resume'
  | 'queues.scale'
  | 'queues.waitIdle'
>;

export function jobHandlers(s: Services): JobHandlers {
  const queues = () => ({ queues: queueStats(s.scheduler.stats()) });
  return {
    'jobs.list': (p) => ({
      jobs: s.scheduler.listJobs({ state: p?.state, queue: p?.queue, trackId: p?.trackId, limit: p?.limit ?? 200 }).map(jobInfo),
    }),
    'jobs.get': ({ id }) => {
      const job = s.scheduler.getJob(id);
      if (!job) throw new SfaError('NOT_FOUND', `No job with id ${id}.`);
      return jobInfo(job);
    },
    'jobs.cancel': ({ id }) => (assertWritable(s), jobInfo(s.scheduler.cancel(id))),
    'jobs.retry': ({ id }) => (assertWritable(s), jobInfo(s.scheduler.retry(id))),
    'jobs.wait': async ({ id, timeoutMs }) => jobInfo(await s.scheduler.waitFor(id, { timeoutMs })),
    'jobs.failures': (p) => ({ jobs: s.scheduler.recentFailures(p?.limit ?? 10).map(jobInfo) }),
    'queues.list': () => queues(),
    'queues.waitIdle': async (p) => (await waitIdle(s.scheduler, p?.pollMs), queues()),
    'queues.pause': ({ queue }) => (s.scheduler.pauseQueue(queue), queues()),
    'queues.resume': ({ queue }) => (s.scheduler.resumeQueue(queue), queues()),
    'queues.scale': ({ queue, limit }) => (s.scaleQueue(queue, limit), queues()),
  };
}
