import { existsSync } from 'node:fs';
import { type AnalysisResult, checkAnalysisResult } from '../../shared/analysis';
import { SfaError, discardsJob, toErrorInfo } from '../../shared/errors';
import { defineWorker } from '../jobs';
import { isUnreachable, workBackoff } from '../cluster/placement';
import { runPlaced, waitForCluster } from '../cluster/run';
import type { WorkerDeps } from './deps';

export interface AnalyzeArgs {
  trackId: string;
  [key: string]: string;
}

/** Minutes a single analysis may take before it is aborted and retried (a 2-hour mix takes ~1). */
const ANALYSIS_TIMEOUT_MS = 15 * 60_000;
const MAX_ATTEMPTS = 3;

/**
 * AnalysisWorker (queue `analysis`, priority 2, 3 attempts): tempo, key, energy and spectral
 * features from the mix, and from the stems when a separation produced them (the analyzer keeps
 * both and says which one the track shows). The result is stored in the transaction that
 * completes the job, so a crash can never leave a job completed without its result, or a result
 * written twice.
 */
export function analysisWorker(deps: WorkerDeps) {
  return defineWorker<AnalyzeArgs>({
    name: 'analyze',
    queue: 'analysis',
    priority: 2,
    maxAttempts: MAX_ATTEMPTS,
    backoff: (job, error, { random }) => workBackoff(job.attempt, error, random),
    timeout: ANALYSIS_TIMEOUT_MS,
    async perform(job, ctx) {
      const track = deps.tracks.get(job.args.trackId);
      if (!track) return { discard: new SfaError('NOT_FOUND', 'The track was removed from the library.') };
      if (!track.path) return { cancel: new SfaError('NOT_FOUND', 'The track has no audio file (its download did not finish).') };
      if (!existsSync(track.path)) return { discard: new SfaError('FILE_NOT_FOUND', `The audio file is missing: ${track.path}`) };
      const stems = Object.fromEntries(Object.entries(deps.stems.latestSet(track.id)?.stems ?? {}).filter(([, path]) => existsSync(path)));
      ctx.progress(0, 'starting analysis');
      let raw: unknown;
      try {
        ({ result: raw } = await runPlaced<unknown>(
          deps.sidecars.analysis,
          deps.cluster,
          job.id,
          'analyze',
          { path: track.path, ...(Object.keys(stems).length ? { stems } : {}) },
          { signal: ctx.signal, timeoutMs: ANALYSIS_TIMEOUT_MS, onProgress: (fraction, message) => ctx.progress(fraction * 100, message) },
        ));
      } catch (error) {
        if (isUnreachable(error)) return waitForCluster(deps.cluster, job, ctx, MAX_ATTEMPTS, error);
        const info = toErrorInfo(error);
        if (discardsJob(info.code)) return { discard: error };
        throw error;
      }
      // Where the result enters from Python: nothing that does not match the contract is stored.
      const checked = checkAnalysisResult(raw);
      if (!checked.ok) {
        return { discard: new SfaError('INTERNAL', `The analyzer returned a result that does not match its contract (${checked.problems.join('; ')}).`) };
      }
      const result: AnalysisResult = checked.result;
      ctx.onComplete(() => deps.analyses.save(track.id, job.id, result));
      return { ok: { source: result.source, bpm: result.tempo.bpm, key: result.key.key, camelot: result.key.camelot } };
    },
  });
}
