/**
 * Job states, as in Oban. The transition table below is the single source of truth: the store
 * only performs these transitions and every transition out of `executing` is fenced by the claim
 * token (`attempted_by`), so a stale execution can never overwrite a newer one.
 *
 * ```
 *                insert (due)            claim               ok
 *   (new) ──────────────────────► available ──────► executing ─────► completed
 *     │  insert (future / deps)      ▲   ▲             │  │  │
 *     ▼                              │   │   error     │  │  └──────► cancelled  ({cancel}, cancel())
 *   scheduled ───── stage (due) ─────┘   │  ◄──────────┘  └─────────► discarded  ({discard}, error at
 *     ▲  │                               │  retryable                             max_attempts,
 *     │  └ deps all resolved ────────────┘     │ stage (due)                      timeout at max)
 *     └──────── {snooze} ───────────────────── (from executing)
 * ```
 *
 * | from       | to         | when                                                               |
 * |------------|------------|--------------------------------------------------------------------|
 * | (new)      | available  | inserted, due now, no pending dependencies                         |
 * | (new)      | scheduled  | inserted with scheduledAt/scheduleIn in the future, or waiting on deps |
 * | (new)      | cancelled  | inserted depending on a cancelled/discarded job (onDependencyFailure 'cancel') |
 * | scheduled  | available  | due time reached (staging timer) or last dependency resolved       |
 * | retryable  | available  | backoff elapsed (staging timer), or retry()                        |
 * | available  | executing  | claimed: attempt + 1, attempted_by = fresh token                    |
 * | executing  | completed  | perform returned ok / void                                        |
 * | executing  | retryable  | error, exception or timeout with attempts left (backoff)           |
 * | executing  | discarded  | `{ discard }`, or error with no attempts left                      |
 * | executing  | cancelled  | `{ cancel }`, or cancel(id) while running                          |
 * | executing  | scheduled  | `{ snooze: s }` (max_attempts + 1 so a snooze costs no attempt)     |
 * | executing  | available  | rescue at start (dead process) or graceful stop after the grace period |
 * | executing  | discarded  | rescue at start when no attempts are left                          |
 * | scheduled/available/retryable | cancelled | cancel(id), or a dependency failed            |
 * | discarded/cancelled/retryable | available | retry(id) (max_attempts raised to attempt + 1 if spent) |
 *
 * A job "waiting" on dependencies is `scheduled` with `deps_pending > 0` (the public `waiting`
 * flag). Keeping it inside the seven public states means every Oban-shaped consumer (CLI, UI,
 * stats) works unchanged; staging skips it because its index is partial on `deps_pending = 0`.
 */
export const JOB_STATES = ['scheduled', 'available', 'executing', 'retryable', 'completed', 'discarded', 'cancelled'] as const;

export type JobState = (typeof JOB_STATES)[number];

/** States a job never leaves on its own (only retry() moves discarded/cancelled back). */
export const FINAL_STATES: readonly JobState[] = ['completed', 'discarded', 'cancelled'];

/** States that count as "still to do" for enqueued() assertions and unique checks' defaults. */
export const PENDING_STATES: readonly JobState[] = ['scheduled', 'available', 'retryable'];

/** States in which a job can be cancelled (anything not final). */
export const CANCELLABLE_STATES: readonly JobState[] = ['scheduled', 'available', 'executing', 'retryable'];

/** States from which retry() makes a job available again. */
export const RETRYABLE_FROM: readonly JobState[] = ['discarded', 'cancelled', 'retryable'];

export function isFinal(state: JobState): boolean {
  return state === 'completed' || state === 'discarded' || state === 'cancelled';
}

export function isJobState(value: unknown): value is JobState {
  return typeof value === 'string' && (JOB_STATES as readonly string[]).includes(value);
}
