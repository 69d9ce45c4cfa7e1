import { UNFINISHED_STATES, type JobState } from '../../shared/job-states';

/**
 * The engine's view of the job states (the list itself lives in src/shared/job-states.ts). The
 * transition table below is the single source of truth: the store performs only these
 * transitions, every transition out of `executing` is fenced by the claim token (`attempted_by`)
 * so a stale execution can never overwrite a newer one, and README.md's table is checked
 * against it (states.test.ts).
 *
 * A job "waiting" on dependencies is `scheduled` with `deps_pending > 0` (the public `waiting`
 * flag). Keeping it inside the seven public states means every Oban-shaped consumer (CLI, UI,
 * stats) works unchanged; staging skips it because its index is partial on `deps_pending = 0`.
 */
export { FINAL_STATES, JOB_STATES, PENDING_STATES, UNFINISHED_STATES, isFinal, isJobState, type JobState } from '../../shared/job-states';

/** `(new)` is a job being inserted; `a/b/c` is any of those states. */
export interface Transition {
  from: string;
  to: JobState;
  when: string;
}

export const TRANSITIONS: readonly Transition[] = [
  { from: '(new)', to: 'available', when: 'inserted, due now, no pending dependencies' },
  { from: '(new)', to: 'scheduled', when: '`scheduledAt`/`scheduleIn` in the future, or waiting on dependencies' },
  { from: '(new)', to: 'cancelled', when: "a dependency is already cancelled/discarded and `onDependencyFailure: 'cancel'`" },
  { from: 'scheduled', to: 'available', when: 'due (staging timer) or last dependency resolved' },
  { from: 'retryable', to: 'available', when: 'backoff elapsed (staging timer), or `retry(id)`' },
  { from: 'available', to: 'executing', when: 'claimed: `attempt + 1`, `attempted_by` = fresh token' },
  { from: 'executing', to: 'completed', when: 'perform returned `undefined` or `{ ok }`' },
  { from: 'executing', to: 'retryable', when: '`{ error }`, a throw, or a timeout, with attempts left' },
  { from: 'executing', to: 'discarded', when: '`{ discard }`, or an error on the last attempt' },
  { from: 'executing', to: 'cancelled', when: '`{ cancel }`, or `cancel(id)` while it runs' },
  { from: 'executing', to: 'scheduled', when: '`{ snooze: seconds }` (max_attempts + 1: a snooze costs no attempt)' },
  { from: 'executing', to: 'available', when: 'rescue at start with attempts left; graceful `stop()` after the grace period' },
  { from: 'executing', to: 'discarded', when: 'rescue at start with no attempts left' },
  { from: 'scheduled/available/retryable', to: 'cancelled', when: '`cancel(id)`, or a dependency failed' },
  { from: 'discarded/cancelled/retryable', to: 'available', when: '`retry(id)`' },
];

/** States in which a job can be cancelled: anything not final. */
export const CANCELLABLE_STATES: readonly JobState[] = UNFINISHED_STATES;

/** States from which retry() makes a job available again. */
export const RETRYABLE_FROM: readonly JobState[] = ['discarded', 'cancelled', 'retryable'];
