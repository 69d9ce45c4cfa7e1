import { PENDING_STATES } from '../../shared/job-states';
import type { Scheduler } from '../jobs';
import type { WorkerDeps } from './deps';
import { modelParams, type SeparateArgs } from './separate';

/** A warm-up's limit: the first on a machine also converts the model for OpenVINO and measures the CPU (minutes). */
const WARM_TIMEOUT_MS = 10 * 60_000;

/**
 * While a track downloads, a processing sidecar loads the model its queued separation will use
 * (Python's imports, the weights, OpenVINO's compiled network: ~4-6 s of a cold htdemucs job on a
 * 2-core CPU, bench/RESULTS.md), so the separation starts warm. Only where it delays nothing
 * (SidecarPool.warmUp: an idle or startable sidecar, never queued behind work, one at a time);
 * not for the DSP separator, nor a model the store does not hold yet (the job downloads it
 * first), nor on a cluster, whose actors load their models on their nodes.
 */
export function warmSeparationsDuringDownloads(scheduler: Scheduler, deps: WorkerDeps): void {
  scheduler.on('job:start', ({ job }) => {
    if (job.worker !== 'download' || !job.trackId || deps.cluster?.active('processing')) return;
    const next = scheduler.listJobs({ worker: 'separate', trackId: job.trackId, state: [...PENDING_STATES], limit: 1 })[0];
    const args = next?.args as SeparateArgs | undefined;
    if (!args || args.model === 'dsp') return;
    const params = modelParams(deps, args);
    if (!params.repo) return;
    const started = Date.now();
    deps.sidecars.processing.warmUp('warm', params, { timeoutMs: WARM_TIMEOUT_MS }).then(
      (done) => {
        if (done) deps.logger.info(`separation: ${args.model} warm in ${Date.now() - started} ms while track ${job.trackId} downloads`);
      },
      (error: Error) => deps.logger.info(`separation: loading ${args.model} ahead of its job failed (the job loads it itself): ${error.message}`),
    );
  });
}
