import { writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import type { JobState } from '../../shared/domain';
import type { Engine } from '../engine';

/** States that end an attempt: what `sfa run` counts and the progress line reports. */
export const ATTEMPT_ENDS: readonly JobState[] = ['completed', 'retryable', 'discarded', 'cancelled'];

/** Live progress on stderr when it is a terminal; nothing otherwise (scripts read stdout). */
export function followProgress(engine: Pick<Engine, 'events'>, enabled: boolean): () => void {
  if (!enabled || !process.stderr.isTTY) return () => undefined;
  const workers = new Map<number, string>();
  return engine.events.subscribe((event, payload) => {
    if (event === 'job:changed') {
      const { job } = payload as { job: { id: number; worker: string; state: JobState; errors: { error: string }[] } };
      // Only running jobs are remembered: 100,000 enqueued ones must not grow the map.
      if (job.state === 'executing') workers.set(job.id, job.worker);
      if (ATTEMPT_ENDS.includes(job.state)) {
        workers.delete(job.id);
        const why = job.state === 'completed' ? '' : `: ${job.errors.at(-1)?.error ?? ''}`;
        process.stderr.write(`\r\x1b[2K${job.worker} #${job.id} ${job.state}${why}\n`);
      }
    } else if (event === 'job:progress') {
      const p = payload as { id: number; percent: number; message: string | null };
      const width = 24;
      const filled = Math.max(0, Math.min(width, Math.round((p.percent / 100) * width)));
      process.stderr.write(
        `\r\x1b[2K${(workers.get(p.id) ?? 'job').padEnd(9)} #${p.id} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.percent.toFixed(0).padStart(3)}% ${(p.message ?? '').slice(0, 40)}`,
      );
    }
  });
}

/** Write a file atomically: a temp file beside it, then a rename. */
export function writeAtomic(path: string, content: string): string {
  const target = resolve(path);
  const temp = `${target}.${process.pid}.part`;
  writeFileSync(temp, content);
  renameSync(temp, target);
  return target;
}
