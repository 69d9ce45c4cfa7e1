import type { JobsContext } from './context';

const PRUNE_BATCH = 500;

/** Delete finished jobs older than `olderThanMs`, in short transactions. */
export async function prune(ctx: JobsContext, olderThanMs = ctx.timings.pruneAfterMs): Promise<number> {
  const before = ctx.clock.now() - olderThanMs;
  let total = 0;
  for (;;) {
    const n = ctx.uow.tx(() => ctx.store.prune(before, PRUNE_BATCH));
    total += n;
    if (n < PRUNE_BATCH) return total;
    await new Promise((r) => setImmediate(r)); // let the event loop breathe between batches
  }
}

/** The live runner's pruning timer (every pruneIntervalMs). */
export class Pruner {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly ctx: JobsContext) {}

  start(): void {
    this.timer = setInterval(
      () => void prune(this.ctx).catch((e) => this.ctx.logger.error('prune failed', e)),
      this.ctx.timings.pruneIntervalMs,
    );
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
