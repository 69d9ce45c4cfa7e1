import { errorEntry, type JobsContext } from './context';
import { resolveDependents } from './dependencies';

const RESCUE_MESSAGE = 'the app stopped while this job ran';

/**
 * start(): jobs left `executing` by a dead process (this process is the only scheduler of its
 * database: the data-folder lock) go back to available with attempts left, else discarded. The
 * interrupted attempt counts, so a job that crashes the app every time ends instead of looping.
 */
export function rescueOrphans(ctx: JobsContext): number {
  const orphans = ctx.store.executing().filter((r) => !ctx.executions.has(r.id));
  if (orphans.length === 0) return 0;
  const now = ctx.clock.now();
  ctx.uow.tx(() => {
    for (const o of orphans) {
      const row = ctx.store.rescue(o.id, now, errorEntry(o.attempt, now, { code: 'RESCUED', message: RESCUE_MESSAGE }));
      if (!row) continue;
      ctx.uow.record(row, 'executing');
      if (row.state === 'discarded') resolveDependents(ctx, row.id, 'discarded', now);
    }
  });
  ctx.logger.warn(`rescued ${orphans.length} job(s) left executing by a stopped process`);
  return orphans.length;
}
