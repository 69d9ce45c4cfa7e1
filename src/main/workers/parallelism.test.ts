import { describe, expect, it } from 'vitest';
import { analysisProcesses, threadVars, threadsEach } from './parallelism';

const GB = 1024 ** 3;

describe('analysis parallelism from the machine', () => {
  it('runs one single-threaded analysis process per core, as memory allows', () => {
    expect(analysisProcesses(2, 24 * GB)).toBe(2);
    expect(analysisProcesses(8, 32 * GB)).toBe(8);
    // 4 GB: a quarter is 1 GB, two warm sidecars
    expect(analysisProcesses(8, 4 * GB)).toBe(2);
    expect(analysisProcesses(1, 1 * GB)).toBe(1);
    expect(analysisProcesses(64, 512 * GB)).toBe(16);
    expect(threadsEach(analysisProcesses(8, 32 * GB), 8)).toBe(1);
  });

  it('shares the cores out as threads, never fewer than one, in every library the sidecars load', () => {
    expect(threadsEach(2, 16)).toBe(8); // the old default on 16 cores: 2 processes of 8 threads
    expect(threadsEach(4, 2)).toBe(1);
    expect(threadVars(3)).toEqual({ OMP_NUM_THREADS: '3', OPENBLAS_NUM_THREADS: '3', MKL_NUM_THREADS: '3', NUMBA_NUM_THREADS: '3' });
  });
});
