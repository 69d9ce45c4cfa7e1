import { create } from 'zustand';
import type { JobInfo, QueueStats } from '../../shared/domain';

export interface JobsState {
  /** Known jobs by id (the newest jobs.list, then live events). */
  jobs: Record<number, JobInfo>;
  queues: QueueStats[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  /** When a running job's progress was first seen (for its ETA). */
  firstSeen: Record<number, { percent: number; at: number }>;
  /** Titles of the jobs' tracks by track id, asked of the engine (the library table loads only a window). */
  titles: Record<string, string>;
}

export const initialJobsState: JobsState = { jobs: {}, queues: [], status: 'idle', firstSeen: {}, titles: {} };

export const useJobsStore = create<JobsState>()(() => ({ ...initialJobsState }));
