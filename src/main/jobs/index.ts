/**
 * Public surface of the durable job engine (README.md in this folder). Import from here only.
 * The engine never imports electron: it runs in the Electron main process, the CLI and tests.
 */
export { createScheduler, Scheduler } from './scheduler';
export { defineWorker } from './worker';
export { defaultBackoff, exponentialBackoff } from './backoff';
export { JOB_STATES, FINAL_STATES, PENDING_STATES, isFinal, type JobState } from './states';
export { resolveUnique, canonicalJson } from './unique';
export { argsMatch, emptyCounts } from './testing';
export { DEFAULTS } from './types';
export type * from './types';
