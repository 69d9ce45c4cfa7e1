/**
 * The job states (Oban's seven) and the named groups of them that the engine, the contract and
 * the UI use. The one list: everything else imports it. Transitions: src/main/jobs/states.ts.
 */
export const JOB_STATES = ['scheduled', 'available', 'executing', 'retryable', 'completed', 'discarded', 'cancelled'] as const;

export type JobState = (typeof JOB_STATES)[number];

/** The one state in which a job's perform() is running. */
export const RUNNING_STATE = 'executing' satisfies JobState;

/** Will run but is not running now: due, waiting for its time or dependencies, or backing off. */
export const PENDING_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable'];

/** Pending or running: the jobs still to finish (cancellable; the UI's "in progress" list). */
export const UNFINISHED_STATES: readonly JobState[] = [...PENDING_STATES, RUNNING_STATE];

/** States a job never leaves on its own (only retry() moves discarded/cancelled back). */
export const FINAL_STATES: readonly JobState[] = ['completed', 'discarded', 'cancelled'];

export function isFinal(state: JobState): boolean {
  return FINAL_STATES.includes(state);
}

export function isUnfinished(state: JobState): boolean {
  return UNFINISHED_STATES.includes(state);
}

export function isPending(state: JobState): boolean {
  return PENDING_STATES.includes(state);
}

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}
