import { SfaError } from '../../shared/errors';
import { errorEntry, type JobsContext } from './context';
import type { JobState } from './states';
import type { DependencyFailurePolicy, JobSpec } from './types';

export interface DependencyCheck {
  deps: { id: number; resolved: boolean }[];
  /** Dependencies not finished yet: the job waits (scheduled, deps_pending > 0). */
  pending: number;
  /** A dependency already failed and the policy is 'cancel': the job is born cancelled. */
  failed?: { id: number; state: JobState };
}

/** Read the state of each dependency of a job being inserted (inside the insert transaction). */
export function checkDependencies(
  ctx: JobsContext,
  dependsOn: JobSpec<unknown>['dependsOn'],
  refs: ReadonlyMap<string, number>,
  policy: DependencyFailurePolicy,
): DependencyCheck {
  const check: DependencyCheck = { deps: [], pending: 0 };
  for (const ref of new Set(dependsOn ?? [])) {
    const id = typeof ref === 'string' ? refs.get(ref) : ref;
    if (id === undefined) throw new SfaError('BAD_REQUEST', `dependsOn "${String(ref)}" does not name an earlier job of this batch`);
    const dep = ctx.store.get(id);
    if (!dep) throw new SfaError('NOT_FOUND', `job ${id} (a dependency) does not exist`);
    if (dep.state === 'completed') check.deps.push({ id, resolved: true });
    else if (dep.state === 'discarded' || dep.state === 'cancelled') {
      check.deps.push({ id, resolved: true });
      if (policy === 'cancel') check.failed ??= { id, state: dep.state };
    } else {
      check.deps.push({ id, resolved: false });
      check.pending++;
    }
  }
  return check;
}

/**
 * A job reached a final state: update the jobs waiting on it (inside the caller's transaction).
 * Completed (or failed with policy 'run') decrements deps_pending and releases the job at
 * zero; failed with policy 'cancel' cancels it, and that cancellation propagates in turn.
 */
export function resolveDependents(ctx: JobsContext, rootId: number, rootState: JobState, now: number): void {
  const work: [number, JobState][] = [[rootId, rootState]];
  while (work.length > 0) {
    const [id, state] = work.pop()!;
    for (const depId of ctx.store.takeDependents(id)) {
      const dep = ctx.store.get(depId);
      if (!dep || dep.state !== 'scheduled' || dep.deps_pending === 0) continue;
      if (state === 'completed' || dep.on_dependency_failure === 'run') {
        const row = ctx.store.releaseDependency(depId, now);
        if (row) ctx.uow.record(row, 'scheduled');
      } else {
        const entry = errorEntry(dep.attempt, now, { code: 'DEPENDENCY_FAILED', message: `dependency #${id} was ${state}` });
        const row = ctx.store.cancelPending(depId, now, entry);
        if (row) {
          ctx.uow.record(row, 'scheduled');
          work.push([depId, 'cancelled']);
        }
      }
    }
  }
}
