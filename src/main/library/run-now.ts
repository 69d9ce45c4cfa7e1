/**
 * Work done "now", ahead of the queue, and waited for: `sfa analyze`, `sfa separate` (through the
 * analysis.run / separation.run requests), and waiting for the queues to be idle (`sfa run
 * --until-idle`). The work still goes through the scheduler (retries, crash safety, one process).
 */
import type { Track } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import { isTrackId } from '../../shared/patterns';
import type { EventBus } from '../events';
import type { Job, Scheduler } from '../jobs';
import type { AnalysisRepository } from './analyses';
import type { Importer } from './importer';
import type { SeparationSettings } from './pipeline';
import type { TrackRepository } from './tracks';

export interface RunNowDeps {
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  importer: Importer;
  scheduler: Scheduler;
  events: EventBus;
  separationDefaults(): SeparationSettings;
}

/** Ahead of everything the pipeline enqueued (priority 0 runs first). */
const NOW = 0;

/** A track id from the library, or a file to import first (without the pipeline). */
export async function resolveTrack(deps: Pick<RunNowDeps, 'tracks' | 'importer' | 'events'>, input: string): Promise<Track> {
  const known = isTrackId(input) ? deps.tracks.get(input) : undefined;
  if (known) return known;
  const { added, errors } = await deps.importer.add([input]);
  if (added[0]) {
    if (added[0].created) deps.events.emit('library:changed', { ids: [added[0].track.id] });
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

async function runAndWait(scheduler: Scheduler, worker: string, args: Record<string, unknown> & { trackId: string }): Promise<Job<unknown>> {
  const { job } = await scheduler.insert(worker, args, { trackId: args.trackId, priority: NOW });
  const done = await scheduler.waitFor(job.id);
  const failure = jobFailure(done);
  if (failure) throw failure;
  return done;
}

export async function analyzeNow(deps: RunNowDeps, input: string) {
  const track = await resolveTrack(deps, input);
  const done = await runAndWait(deps.scheduler, 'analyze', { trackId: track.id });
  const result = deps.analyses.current(track.id)?.result;
  if (!result) throw new SfaError('NOT_FOUND', `The analysis of ${track.title} completed but its result is gone (was the track removed?).`);
  return { trackId: track.id, title: track.title, jobId: done.id, result };
}

export async function separateNow(deps: RunNowDeps, input: string, settings: Partial<SeparationSettings>) {
  const track = await resolveTrack(deps, input);
  const given = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined));
  const done = await runAndWait(deps.scheduler, 'separate', { ...deps.separationDefaults(), ...given, trackId: track.id });
  const out = done.result as { model: string; device?: string; stems: Record<string, string> };
  return { trackId: track.id, jobId: done.id, model: out.model, device: out.device ?? null, stems: out.stems };
}

/**
 * Resolves when no job is available or executing and none is due now (retries later are not "now"),
 * checked by the scheduler with index lookups (a poll costs the same over 100,000 jobs),
 * or when the scheduler has stopped (it runs nothing more: the engine is closing under a caller that
 * stopped waiting, `sfa run --until-idle` after Ctrl+C); the poll never reads a closed library.
 */
export function waitIdle(scheduler: Scheduler, pollMs = 200): Promise<void> {
  return new Promise((resolveIdle, rejectIdle) => {
    const check = () => {
      if (scheduler.stopped) return resolveIdle();
      try {
        if (scheduler.isIdle()) resolveIdle();
        else setTimeout(check, pollMs);
      } catch (error) {
        rejectIdle(error);
      }
    };
    setTimeout(check, pollMs);
  });
}
