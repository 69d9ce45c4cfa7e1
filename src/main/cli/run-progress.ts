/**
 * `sfa run`'s progress per queue: one line on stderr every few seconds (terminal or not, so that a
 * batch run's log shows how far 100,000 files got), one when the import ends, one at the end.
 * Built from the scheduler's counts (one GROUP BY) and the import's latest counts: it holds no
 * per-job or per-file state, so its memory does not grow with the batch.
 */
import type { ImportCounts, ImportProgress, QueueStats } from '../../shared/domain';
import type { Engine } from '../engine';
import { call } from './call';
import { describeCounts } from './run-import';

/** The default seconds between two lines (`--progress-every`). */
export const PROGRESS_EVERY_S = 10;

export function describeQueue(q: Pick<QueueStats, 'name' | 'counts'>): string {
  const c = q.counts;
  const waiting = c.scheduled + c.available + c.retryable;
  return `${q.name} ${c.completed} completed, ${c.executing} running, ${waiting} waiting, ${c.discarded} failed, ${c.cancelled} cancelled`;
}

/** One progress line: the import (when there is one) and every queue that has jobs. */
export function progressLine(queues: QueueStats[], imported: (ImportCounts & { done: boolean }) | null): string {
  const parts = [];
  if (imported) parts.push(`import ${imported.done ? 'done' : 'running'}: ${describeCounts(imported)}`);
  const busy = queues.filter((q) => Object.values(q.counts).some((n) => n > 0));
  parts.push(...(busy.length ? busy.map(describeQueue) : ['no jobs']));
  return `progress  ${parts.join('  |  ')}`;
}

/** Starts the lines; the returned function prints the last one and stops. */
export function followQueues(engine: Pick<Engine, 'events' | 'api'>, options: { enabled: boolean; everyS: number; write?: (line: string) => void }): () => Promise<void> {
  if (!options.enabled) return async () => undefined;
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  let imported: (ImportCounts & { done: boolean }) | null = null;
  let printing: Promise<void> = Promise.resolve();
  const print = () => {
    printing = printing.then(async () => {
      const { queues } = await call(engine, 'queues.list', {});
      write(progressLine(queues, imported));
    }).catch(() => undefined); // the engine closing under a last line: nothing to report
    return printing;
  };
  const off = engine.events.subscribe((event, payload) => {
    if (event !== 'library:import') return;
    const p = payload as ImportProgress;
    imported = { seen: p.seen, imported: p.imported, skipped: p.skipped, failed: p.failed, done: p.done };
    if (p.done) void print();
  });
  const timer = setInterval(() => void print(), options.everyS * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    off();
    await print();
  };
}
