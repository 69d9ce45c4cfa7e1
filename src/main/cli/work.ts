import { writeFileSync, renameSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Track } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import type { Engine } from '../engine';
import type { Job } from '../jobs';

/** A track id from the library, or a file to import first (without the pipeline). */
export async function resolveTrack(engine: Engine, input: string): Promise<Track> {
  const known = engine.tracks.get(input);
  if (known) return known;
  const { added, errors } = await engine.importer.add([input]);
  if (added[0]) {
    if (added[0].created) engine.events.emit('library:changed', { ids: [added[0].track.id] });
    return added[0].track;
  }
  const e = errors[0];
  throw new SfaError(e?.code ?? 'NOT_FOUND', e?.message ?? `No track or file ${input}`);
}

/** The job's outcome as an error a user can act on, when it did not complete. */
export function jobFailure(job: Job<unknown>): SfaError | null {
  if (job.state === 'completed') return null;
  const last = job.errors.at(-1);
  return new SfaError(last?.code ?? (job.state === 'cancelled' ? 'CANCELLED' : 'JOB_FAILED'), last?.error ?? `The job ended ${job.state}.`);
}

/** Live progress on stderr when it is a terminal; nothing otherwise (scripts read stdout). */
export function followProgress(engine: Engine, enabled: boolean): () => void {
  if (!enabled || !process.stderr.isTTY) return () => undefined;
  const offs = [
    engine.scheduler.on('job:progress', (p) => {
      const width = 24;
      const filled = Math.round((p.percent / 100) * width);
      process.stderr.write(`\r\x1b[2K${p.worker.padEnd(9)} #${p.id} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.percent.toFixed(0).padStart(3)}% ${(p.message ?? '').slice(0, 40)}`);
    }),
    engine.scheduler.on('job:state', ({ job, to }) => {
      if (to === 'completed' || to === 'discarded' || to === 'cancelled' || to === 'retryable') {
        const why = to === 'completed' ? '' : `: ${job.errors.at(-1)?.error ?? ''}`;
        process.stderr.write(`\r\x1b[2K${job.worker} #${job.id} ${to}${why}\n`);
      }
    }),
  ];
  return () => offs.forEach((off) => off());
}

/** Resolves when no job is available or executing and none is due now (retries later are not "now"). */
export function untilIdle(engine: Engine, pollMs = 200): Promise<void> {
  return new Promise((resolveIdle) => {
    const check = () => {
      const totals = engine.scheduler.stats().totals;
      const due = engine.scheduler
        .listJobs({ state: ['scheduled', 'retryable'], limit: 1000 })
        .some((j) => !j.waiting && j.scheduledAt <= Date.now());
      if (totals.available === 0 && totals.executing === 0 && !due) resolveIdle();
      else setTimeout(check, pollMs);
    };
    setTimeout(check, pollMs);
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
