import type { JobsContext, Runner } from './context';
import type { Executor } from './executing';
import type { InsertResult } from './types';
import { Producer } from './producing';
import { Pruner } from './pruning';
import { Stager } from './staging';
import type { Changes } from './unit-of-work';

/** Normal operation (`testing: 'disabled'`): dispatch on every change, staging and pruning timers. */
export class LiveRunner implements Runner {
  private readonly producer: Producer;
  private readonly stager: Stager;
  private readonly pruner: Pruner;

  constructor(
    private readonly ctx: JobsContext,
    executor: Executor,
  ) {
    this.producer = new Producer(ctx, executor);
    this.stager = new Stager(ctx, () => this.wakeAll());
    this.pruner = new Pruner(ctx);
  }

  start(): void {
    this.stager.start();
    this.wakeAll();
    this.pruner.start();
    this.stager.startPolling();
  }

  stop(): void {
    this.stager.stop();
    this.pruner.stop();
  }

  committed(changes: Changes): void {
    for (const { queue } of changes.available) this.producer.request(queue);
    if (changes.stagingChanged) this.stager.arm(false);
  }

  wake(queue: string): void {
    this.producer.request(queue);
  }

  inserted(results: InsertResult[]): Promise<InsertResult[]> {
    return Promise.resolve(results);
  }

  attemptsEnded(): undefined {
    return undefined;
  }

  private wakeAll(): void {
    for (const q of this.ctx.queues.keys()) this.producer.request(q);
  }
}
