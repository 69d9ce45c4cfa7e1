import { queueState, validateLimit, type JobsContext, type QueueState } from './context';
import type { Executor } from './executing';
import type { JobRow } from './store';
import type { QueueInfo } from './types';

/**
 * The live runner's producer: claims as many available jobs as a queue has free slots, in one
 * atomic UPDATE ... RETURNING, and starts them. Requests within one macrotask are coalesced
 * into one claim per queue, so there is no polling delay and no claim per inserted job.
 */
export class Producer {
  private readonly dirty = new Set<string>();
  private scheduled = false;

  constructor(
    private readonly ctx: JobsContext,
    private readonly executor: Executor,
  ) {}

  request(queue: string): void {
    if (!this.running()) return;
    this.dirty.add(queue);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const queues = [...this.dirty];
      this.dirty.clear();
      for (const q of queues) this.dispatch(q);
    });
  }

  private running(): boolean {
    return this.ctx.lifecycle.started && !this.ctx.lifecycle.stopping;
  }

  private dispatch(name: string): void {
    const { ctx } = this;
    if (!this.running()) return;
    const q = ctx.queues.get(name);
    if (!q || q.paused) return;
    const free = q.limit - q.slots;
    if (free <= 0) return;
    let rows: JobRow[];
    try {
      rows = ctx.store.claim(name, free, ctx.clock.now(), ctx.newToken());
    } catch (error) {
      // SQLITE_BUSY beyond busy_timeout (another process holds the write lock): try again soon.
      ctx.logger.warn(`claim on queue ${name} failed; retrying`, error);
      setTimeout(() => this.request(name), 50).unref?.();
      return;
    }
    for (const row of rows) {
      ctx.uow.record(row, 'available');
      this.executor.start(row);
    }
  }
}

export function queueInfo(q: QueueState): QueueInfo {
  return { limit: q.limit, paused: q.paused, running: q.slots };
}

/** Pause, resume or scale a queue (in memory: a restart returns to the configured limits). */
export function changeQueue(ctx: JobsContext, queue: string, change: { paused?: boolean; limit?: number }): void {
  if (change.limit !== undefined) validateLimit(change.limit, queue);
  const q = queueState(ctx, queue);
  if (change.paused !== undefined) q.paused = change.paused;
  if (change.limit !== undefined) q.limit = change.limit;
  ctx.emitter.emit('queue:change', { queue, info: queueInfo(q) });
  if (change.paused !== true) ctx.runner.wake(queue);
}
