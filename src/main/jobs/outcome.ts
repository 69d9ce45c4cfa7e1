import { SfaError, toErrorInfo, type ErrorCode, type ErrorInfo } from '../../shared/errors';
import type { JobState } from './states';
import type { DrainCounts, JobSpec, PerformResult } from './types';

/** How an attempt ended, as decided by perform's return (or throw, or timeout). */
export type Outcome =
  | { kind: 'ok'; value: unknown; then: JobSpec<unknown>[] }
  | { kind: 'error'; error: unknown; exception: boolean; timeout: boolean }
  | { kind: 'cancel'; reason: unknown }
  | { kind: 'snooze'; seconds: number }
  | { kind: 'discard'; reason: unknown };

/** How an attempt ended, for drainQueue counts ('stale': the claim was lost, nothing written). */
export type AttemptResult = keyof DrainCounts | 'stale';

export function errorOutcome(error: unknown, how: { exception?: boolean; timeout?: boolean } = {}): Outcome {
  return { kind: 'error', error, exception: how.exception ?? false, timeout: how.timeout ?? false };
}

export function normalize(result: PerformResult): Outcome {
  if (result === undefined || result === null) return { kind: 'ok', value: undefined, then: [] };
  if (typeof result === 'object') {
    if ('ok' in result) return { kind: 'ok', value: result.ok, then: result.then ?? [] };
    if ('error' in result) return errorOutcome(result.error);
    if ('cancel' in result) return { kind: 'cancel', reason: result.cancel };
    if ('snooze' in result) {
      const s = result.snooze;
      if (typeof s === 'number' && Number.isFinite(s) && s >= 0) return { kind: 'snooze', seconds: s };
      return errorOutcome(new SfaError('BAD_REQUEST', `snooze needs seconds >= 0, got ${String(s)}`));
    }
    if ('discard' in result) return { kind: 'discard', reason: result.discard };
  }
  // A typo in a return value must not silently count as success.
  return errorOutcome(new SfaError('INTERNAL', `perform returned an unrecognised value: ${JSON.stringify(result)?.slice(0, 200)}`));
}

/** An error, a reason string or nothing, as the `{ code, message }` stored with the job. */
export function errorInfoOf(value: unknown, fallbackCode: ErrorCode): ErrorInfo {
  if (typeof value === 'string') return { code: fallbackCode, message: value };
  if (value === undefined || value === null) return { code: fallbackCode, message: fallbackCode.toLowerCase().replace(/_/g, ' ') };
  return toErrorInfo(value);
}

/** The drain count an applied outcome adds to, given the state it left the job in. */
export function attemptResultOf(outcome: Outcome, state: JobState): AttemptResult {
  switch (outcome.kind) {
    case 'ok':
      return 'success';
    case 'snooze':
      return 'snoozed';
    case 'cancel':
      return 'cancelled';
    default:
      return state === 'discarded' ? 'discarded' : 'failure';
  }
}
