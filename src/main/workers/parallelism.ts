/**
 * How many analysis sidecars run at once, and how many threads each gets. librosa's work is
 * mostly single-threaded numpy and numba: a second thread in one process gained nothing here
 * (30 s clip: 1.04 s with 1 thread, 1.5-4.8 s with 2 on 2 busy cores), while a second process
 * doubles the work done (`npm run bench -- analysis-scale`). So: one process per core, one thread
 * each, as many as memory allows (a warm analysis sidecar holds about 300 MB), 16 at most.
 */
import { availableParallelism, totalmem } from 'node:os';

/** Resident size of a warm analysis sidecar (librosa, numba, scipy), rounded up. */
const ANALYSIS_PROCESS_BYTES = 400 * 1024 * 1024;
/** Analysis may use up to this share of the machine's memory by default. */
const MEMORY_SHARE = 0.25;
/** The most a queue may run at once (the contract's limit for `queues.scale` and settings). */
const MAX_PROCESSES = 16;

/** The default analysis queue concurrency: one process per core, as memory allows. */
export function analysisProcesses(cores = availableParallelism(), memoryBytes = totalmem()): number {
  const byMemory = Math.floor((memoryBytes * MEMORY_SHARE) / ANALYSIS_PROCESS_BYTES);
  return Math.max(1, Math.min(cores, byMemory, MAX_PROCESSES));
}

/** Threads for each of `processes` sidecars sharing the cores (never fewer than one). */
export function threadsEach(processes: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, processes)));
}

/** The thread-count variables the numeric libraries read at start (OpenMP, OpenBLAS, MKL, numba). */
export function threadVars(threads: number): Record<string, string> {
  const n = String(threads);
  return { OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n, NUMBA_NUM_THREADS: n };
}
