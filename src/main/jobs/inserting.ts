import { SfaError } from '../../shared/errors';
import { errorEntry, resolveWorker, type JobsContext } from './context';
import { checkDependencies } from './dependencies';
import type { JobState } from './states';
import { toJob } from './store';
import type { InsertResult, JobError, JobSpec, JsonObject, UniqueOptions } from './types';
import { resolveUnique } from './unique';
import { validateMaxAttempts, validatePriority } from './worker';

/** Refs named so far in one batch (or one completion), for `dependsOn`. */
export type Refs = Map<string, number>;

/** Insert specs in one transaction (all or nothing); refs are shared across the batch. */
export function insertBatch(ctx: JobsContext, specs: JobSpec<unknown>[]): InsertResult[] {
  const now = ctx.clock.now();
  const insert = () => {
    const refs: Refs = new Map();
    return specs.map((spec) => insertOne(ctx, spec, refs, now));
  };
  // One plain job is one INSERT statement, atomic on its own: skip BEGIN/COMMIT round trips.
  // Unique checks and dependencies read before they write, so they need BEGIN IMMEDIATE.
  const spec = specs[0];
  const single = specs.length === 1 && spec !== undefined && !spec.dependsOn?.length && !uniqueOf(ctx, spec);
  return ctx.uow.tx(insert, single);
}

function uniqueOf(ctx: JobsContext, spec: JobSpec<unknown>): UniqueOptions | undefined {
  if (spec.unique === false) return undefined;
  return spec.unique ?? resolveWorker(ctx, spec.worker).unique;
}

/** Validate and insert one job inside the caller's transaction (a batch or a completion). */
export function insertOne(ctx: JobsContext, spec: JobSpec<unknown>, refs: Refs, now: number): InsertResult {
  const worker = resolveWorker(ctx, spec.worker);
  const queue = spec.queue ?? worker.queue;
  if (!ctx.queues.has(queue)) throw new SfaError('BAD_REQUEST', `queue ${queue} is not configured`);
  const priority = spec.priority ?? worker.priority;
  const maxAttempts = spec.maxAttempts ?? worker.maxAttempts;
  validatePriority(priority, `job for ${worker.name}`);
  validateMaxAttempts(maxAttempts, `job for ${worker.name}`);
  const args = (spec.args ?? {}) as JsonObject;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new SfaError('BAD_REQUEST', `job args for ${worker.name} must be a JSON object`);
  }
  const meta = spec.meta ?? {};
  const tags = spec.tags ?? [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) throw new SfaError('BAD_REQUEST', 'tags must be strings');
  const policy = spec.onDependencyFailure ?? 'cancel';
  if (policy !== 'cancel' && policy !== 'run') throw new SfaError('BAD_REQUEST', `onDependencyFailure must be 'cancel' or 'run'`);
  const scheduledAt = dueTime(spec, now);
  if (spec.ref !== undefined && refs.has(spec.ref)) throw new SfaError('BAD_REQUEST', `ref "${spec.ref}" is used twice in one batch`);

  // Unique check and insert share this IMMEDIATE transaction: no other writer can slip between.
  const uniqueOptions = uniqueOf(ctx, spec);
  let uniqueKey: string | null = null;
  if (uniqueOptions) {
    const u = resolveUnique(uniqueOptions, { worker: worker.name, queue, args, meta }, now);
    const existing = ctx.store.findUnique(u.key, u.since, u.states);
    if (existing) {
      if (spec.ref !== undefined) refs.set(spec.ref, existing.id);
      return { job: toJob(existing), conflict: true };
    }
    uniqueKey = u.key;
  }

  const { deps, pending, failed } = checkDependencies(ctx, spec.dependsOn, refs, policy);
  const errors: JobError[] = [];
  let state: JobState;
  if (failed) {
    state = 'cancelled';
    errors.push(errorEntry(0, now, { code: 'DEPENDENCY_FAILED', message: `dependency #${failed.id} was ${failed.state}` }));
  } else state = pending > 0 || scheduledAt > now ? 'scheduled' : 'available';

  const row = ctx.store.insert({
    state,
    queue,
    worker: worker.name,
    args: JSON.stringify(args),
    meta: JSON.stringify(meta),
    tags: JSON.stringify(tags),
    errors: JSON.stringify(errors),
    maxAttempts,
    priority,
    insertedAt: now,
    scheduledAt,
    cancelledAt: state === 'cancelled' ? now : null,
    uniqueKey,
    trackId: spec.trackId ?? null,
    depsPending: failed ? 0 : pending,
    onDependencyFailure: policy,
  });
  for (const d of deps) ctx.store.insertDependency(row.id, d.id, d.resolved);
  if (spec.ref !== undefined) refs.set(spec.ref, row.id);
  ctx.uow.record(row, null);
  return { job: toJob(row), conflict: false };
}

function dueTime(spec: JobSpec<unknown>, now: number): number {
  let at = now;
  if (spec.scheduledAt !== undefined) at = spec.scheduledAt instanceof Date ? spec.scheduledAt.getTime() : spec.scheduledAt;
  else if (spec.scheduleIn !== undefined) at = now + spec.scheduleIn * 1000;
  if (!Number.isFinite(at)) throw new SfaError('BAD_REQUEST', 'scheduledAt/scheduleIn must be finite');
  return Math.round(at);
}
