import type { Events } from '../../shared/contract';
import type { JobInfo, QueueStats } from '../../shared/domain';
import { UNFINISHED_STATES } from '../../shared/job-states';
import { TITLES_MAX_IDS } from '../../shared/listing';
import type { Client } from '../api';
import { useJobsStore } from '../stores';
import { errorText, notify } from './notices';

/** The newest jobs plus every unfinished one (their stored progress snapshot included), and the queues. */
export async function loadJobs(client: Client): Promise<void> {
  if (useJobsStore.getState().status === 'idle') useJobsStore.setState({ status: 'loading' });
  try {
    const [recent, unfinished, queues] = await Promise.all([
      client.request('jobs.list', { limit: 500 }),
      client.request('jobs.list', { state: [...UNFINISHED_STATES], limit: 1000 }),
      client.request('queues.list'),
    ]);
    const jobs: Record<number, JobInfo> = {};
    for (const j of [...recent.jobs, ...unfinished.jobs]) jobs[j.id] = j;
    // Events that raced the load and are newer win.
    const live = useJobsStore.getState().jobs;
    for (const [id, j] of Object.entries(live)) if (!jobs[Number(id)]) jobs[Number(id)] = j;
    useJobsStore.setState({ jobs, queues: queues.queues, status: 'ready' });
    await loadTitles(client);
  } catch (error) {
    useJobsStore.setState({ status: 'error' });
    notify('error', 'Could not load the jobs', [errorText(error)]);
  }
}

export function applyJobChanged({ job }: Events['job:changed']): void {
  useJobsStore.setState((s) => {
    const firstSeen = { ...s.firstSeen };
    if (job.state !== 'executing') delete firstSeen[job.id];
    return { jobs: { ...s.jobs, [job.id]: job }, firstSeen };
  });
}

export function applyProgress(p: Events['job:progress'], now = Date.now()): void {
  useJobsStore.setState((s) => {
    const job = s.jobs[p.id];
    const firstSeen = s.firstSeen[p.id] ? s.firstSeen : { ...s.firstSeen, [p.id]: { percent: p.percent, at: now } };
    if (!job) return { firstSeen };
    return { jobs: { ...s.jobs, [p.id]: { ...job, state: job.state === 'available' ? 'executing' : job.state, progress: { percent: p.percent, message: p.message } } }, firstSeen };
  });
}

export function applyQueues({ queues }: { queues: QueueStats[] }): void {
  useJobsStore.setState({ queues });
}

export async function jobAction(client: Client, action: 'cancel' | 'retry', id: number): Promise<void> {
  try {
    const job = await client.request(action === 'cancel' ? 'jobs.cancel' : 'jobs.retry', { id });
    applyJobChanged({ job });
  } catch (error) {
    notify('error', action === 'cancel' ? `Could not cancel job ${id}` : `Could not retry job ${id}`, [errorText(error)]);
  }
}

export async function queueAction(client: Client, queue: string, action: 'pause' | 'resume' | { scale: number }): Promise<void> {
  try {
    const result =
      action === 'pause'
        ? await client.request('queues.pause', { queue })
        : action === 'resume'
          ? await client.request('queues.resume', { queue })
          : await client.request('queues.scale', { queue, limit: action.scale });
    applyQueues(result);
  } catch (error) {
    notify('error', `Could not change the ${queue} queue`, [errorText(error)]);
  }
}

/** Track ids whose titles are being asked now (each asked once at a time). */
const asking = new Set<string>();

/**
 * Titles of the tracks the known jobs are about, for those not known yet: the Jobs view names
 * each job's track whether or not the library table has loaded it. A track that is gone gets ''
 * (its job shows its link or a dash), so it is not asked again.
 */
export async function loadTitles(client: Client): Promise<void> {
  const { jobs, titles } = useJobsStore.getState();
  const missing = [...new Set(Object.values(jobs).map((j) => j.trackId))].filter((id): id is string => !!id && !(id in titles) && !asking.has(id));
  for (let i = 0; i < missing.length; i += TITLES_MAX_IDS) {
    const ids = missing.slice(i, i + TITLES_MAX_IDS);
    ids.forEach((id) => asking.add(id));
    try {
      const reply = await client.request('library.titles', { ids });
      useJobsStore.setState((s) => ({ titles: { ...s.titles, ...Object.fromEntries(ids.map((id) => [id, reply.titles[id] ?? ''])) } }));
    } catch {
      // The job rows show their link or a dash meanwhile; the next job event asks again.
    } finally {
      ids.forEach((id) => asking.delete(id));
    }
  }
}
