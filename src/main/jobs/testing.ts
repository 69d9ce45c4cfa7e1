import type { DrainCounts, Job, JsonObject } from './types';

/**
 * Helpers for testing modes (see README "Testing"): `inline` runs a job inside insert(),
 * `manual` runs nothing until drainQueue(). The scheduler exposes drainQueue/enqueued/
 * allEnqueued; these are the pure pieces they use, exported for tests that inspect jobs directly.
 */
export function emptyCounts(): DrainCounts {
  return { success: 0, failure: 0, snoozed: 0, cancelled: 0, discarded: 0 };
}

/** Deep equality on JSON values. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => jsonEqual(v, b[i]));
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => jsonEqual((a as JsonObject)[k], (b as JsonObject)[k]));
}

/** Oban's assert_enqueued semantics: every key given must match; other keys are ignored. */
export function argsMatch(job: Job, args: JsonObject | undefined): boolean {
  if (!args) return true;
  return Object.entries(args).every(([k, v]) => jsonEqual(job.args[k], v));
}
