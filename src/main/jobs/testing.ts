import { SfaError } from '../../shared/errors';
import { queueState, type JobsContext } from './context';
import type { Executor } from './executing';
import { stageDue } from './staging';
import { PENDING_STATES } from './states';
import { toJob } from './store';
import type { DrainCounts, DrainOptions, EnqueuedFilter, Job, JsonObject } from './types';

/**
 * Testing helpers (see README "Testing modes"): `inline` runs a job inside insert() (inline.ts),
 * `manual` runs nothing until drainQueue(). The pure pieces are exported for tests that inspect
 * jobs directly.
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

/** Jobs waiting to run (default states scheduled/available/retryable) matching the filter, oldest first. */
export function allEnqueued(ctx: JobsContext, filter: EnqueuedFilter = {}): Job[] {
  const states = filter.state === undefined ? [...PENDING_STATES] : Array.isArray(filter.state) ? filter.state : [filter.state];
  const worker = filter.worker === undefined ? undefined : typeof filter.worker === 'string' ? filter.worker : filter.worker.name;
  return ctx.store
    .list({ states, queue: filter.queue, worker, limit: 1_000_000 })
    .map(toJob)
    .filter((j) => argsMatch(j, filter.args))
    .reverse();
}

/**
 * Run jobs of a queue (or of every queue) to their end, one at a time, and count outcomes
 * (Oban.drain_queue). Meant for the `manual` testing mode. `withScheduled` stages scheduled
 * and retryable jobs whatever their due time; `withRecursion` keeps going with jobs that
 * become available while draining (follow-ups, released dependents, retries when
 * `withScheduled`), up to 10,000 attempts so an always-snoozing job cannot hang a test.
 */
export async function drainQueue(ctx: JobsContext, executor: Executor, options: DrainOptions = {}): Promise<DrainCounts> {
  const counts = emptyCounts();
  const queues = options.queue ? [queueState(ctx, options.queue).name] : [...ctx.queues.keys()];
  const stage = () => stageDue(ctx, options.withScheduled ? Number.MAX_SAFE_INTEGER : ctx.clock.now(), Number.MAX_SAFE_INTEGER);
  const runOne = async (id: number) => {
    const r = await executor.runById(id);
    if (r && r !== 'stale') counts[r]++;
  };
  stage();
  if (!options.withRecursion) {
    for (const id of queues.flatMap((q) => ctx.store.availableIds(q))) await runOne(id);
    return counts;
  }
  for (let i = 0; i < 10_000; i++) {
    stage();
    const next = queues.map((q) => ctx.store.nextAvailableId(q)).find((id) => id !== undefined);
    if (next === undefined) return counts;
    await runOne(next);
  }
  throw new SfaError('INTERNAL', 'drainQueue ran 10,000 attempts without emptying the queue (a job that always snoozes?)');
}
