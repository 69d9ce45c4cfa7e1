import type { JobsContext, Runner } from './context';
import type { Executor } from './executing';
import { toJob } from './store';
import type { InsertResult } from './types';

/**
 * The `inline` testing mode: insert/insertAll run the jobs they inserted (scheduled ones at
 * once, but not those waiting on dependencies) before resolving, and each attempt's end runs
 * what its completion released or inserted before it is reported. No timers, no dispatch; a
 * retryable result is not retried.
 */
export class InlineRunner implements Runner {
  constructor(
    private readonly ctx: JobsContext,
    private readonly executor: Executor,
  ) {}

  start(): void {}
  stop(): void {}
  committed(): void {}
  wake(): void {}

  async inserted(results: InsertResult[]): Promise<InsertResult[]> {
    const runnable = results.filter((r) => !r.conflict && (r.job.state === 'available' || (r.job.state === 'scheduled' && !r.job.waiting)));
    await this.run(runnable.map((r) => r.job.id));
    return results.map((r) => {
      const row = this.ctx.store.get(r.job.id);
      return { job: row ? toJob(row) : r.job, conflict: r.conflict };
    });
  }

  attemptsEnded(madeAvailable: readonly number[]): Promise<void> | undefined {
    return madeAvailable.length > 0 ? this.run(madeAvailable) : undefined;
  }

  private async run(ids: readonly number[]): Promise<void> {
    for (const id of ids) await this.executor.runById(id);
  }
}
