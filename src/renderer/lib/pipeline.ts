import type { JobInfo, TrackListItem } from '../../shared/domain';
import { isPending, RUNNING_STATE } from '../../shared/job-states';

/** What the library's status column says, derived from the track and its jobs. */
export interface PipelineStatus {
  kind: 'running' | 'queued' | 'done' | 'failed' | 'cancelled' | 'missing' | 'pending' | 'ready';
  text: string;
  percent: number | null;
}

const VERBS: Record<string, string> = { separate: 'separating', analyze: 'analyzing', download: 'downloading', expand: 'expanding' };

/** Jobs grouped by track, newest first. */
export function jobsByTrack(jobs: Iterable<JobInfo>): Map<string, JobInfo[]> {
  const map = new Map<string, JobInfo[]>();
  for (const job of jobs) {
    if (!job.trackId) continue;
    let list = map.get(job.trackId);
    if (!list) map.set(job.trackId, (list = []));
    list.push(job);
  }
  for (const list of map.values()) list.sort((a, b) => b.id - a.id);
  return map;
}

function lastError(job: JobInfo): string {
  return job.errors[job.errors.length - 1]?.error ?? 'unknown error';
}

export function pipelineStatus(track: Pick<TrackListItem, 'status' | 'error' | 'analysis'>, jobs: readonly JobInfo[] | undefined): PipelineStatus {
  if (track.status === 'missing') return { kind: 'missing', text: 'file missing', percent: null };
  const list = jobs ?? [];
  const running = list.find((j) => j.state === RUNNING_STATE);
  if (running) {
    const percent = running.progress ? Math.round(running.progress.percent) : null;
    const verb = VERBS[running.worker] ?? running.worker;
    return { kind: 'running', text: percent !== null ? `${verb} ${percent}%` : verb, percent };
  }
  const queued = list.find((j) => isPending(j.state));
  if (queued) return { kind: 'queued', text: queued.state === 'retryable' ? `retrying ${VERBS[queued.worker] ?? queued.worker}` : 'queued', percent: null };
  // Only the newest run of each step counts (a retry or re-run supersedes an old failure).
  const latest = new Map<string, JobInfo>();
  for (const j of list) if (!latest.has(j.worker)) latest.set(j.worker, j);
  const failed = [...latest.values()].find((j) => j.state === 'discarded');
  if (failed) return { kind: 'failed', text: `failed: ${lastError(failed)}`, percent: null };
  if (track.status === 'failed') return { kind: 'failed', text: `failed: ${track.error ?? 'unknown error'}`, percent: null };
  if (track.status === 'pending') return { kind: 'pending', text: 'waiting for download', percent: null };
  const cancelled = [...latest.values()].find((j) => j.state === 'cancelled');
  if (cancelled && !track.analysis) return { kind: 'cancelled', text: 'cancelled', percent: null };
  if (latest.size || track.analysis) return { kind: 'done', text: 'done', percent: null };
  return { kind: 'ready', text: 'ready', percent: null };
}

/**
 * Seconds left for a running job from its progress rate: null until it has moved for a while
 * (at least 2 s and 2 percentage points since it was first seen).
 */
export function estimateEta(first: { percent: number; at: number } | undefined, percent: number, now: number): number | null {
  if (!first) return null;
  const dt = (now - first.at) / 1000;
  const dp = percent - first.percent;
  if (dt < 2 || dp < 2 || percent >= 100) return null;
  return Math.max(0, ((100 - percent) * dt) / dp);
}

export function formatEta(seconds: number | null): string {
  if (seconds === null) return '';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s left`;
  const m = Math.round(seconds / 60);
  return m < 60 ? `${m} min left` : `${Math.floor(m / 60)} h ${m % 60} min left`;
}
