import type { Job, PerformContext } from '../jobs';
import type { SidecarPool } from '../sidecar/pool';
import type { RequestOptions } from '../sidecar/process';
import type { ClusterQueue, ClusterWork } from './backend';
import { toErrorInfo } from '../../shared/errors';
import { noRayMessage, runningOn, takePlacement, unreachableDelay, unreachableMessage, waitsSoFar, type ClusterPlacement } from './placement';

/**
 * One sidecar request of a job, wherever its pool runs it: on a cluster driver the node it runs on
 * is recorded as soon as the driver names it (its first progress message) and again from the
 * result's `cluster` key, which is stripped so the result meets the same checks as a local one.
 */
export async function runPlaced<T>(
  pool: SidecarPool,
  cluster: ClusterWork | undefined,
  jobId: number,
  op: string,
  params: Record<string, unknown>,
  options: RequestOptions,
): Promise<{ result: T; placement: ClusterPlacement | null }> {
  const onCluster = cluster?.active(pool.name as ClusterQueue) ?? false;
  if (onCluster) cluster!.recordNode(jobId, null); // a new attempt: not where the last one ran
  let named = false;
  const raw = await pool.run<T>(op, params, {
    ...options,
    onProgress: (fraction, message) => {
      if (onCluster && !named) {
        const node = runningOn(message);
        if (node) {
          named = true;
          cluster!.recordNode(jobId, node);
        }
      }
      options.onProgress?.(fraction, message);
    },
  });
  const taken = takePlacement(raw);
  if (taken.placement) cluster?.recordNode(jobId, { ip: taken.placement.nodeIp, id: taken.placement.nodeId });
  return taken;
}

/**
 * The cluster cannot be reached, or Ray is not installed yet: the job waits (a snooze spends no
 * attempt, so it is never discarded for it) and says why in its progress message, which the
 * snoozed row keeps.
 */
export function waitForCluster(cluster: ClusterWork | undefined, job: Job<unknown>, ctx: Pick<PerformContext, 'progress'>, workerMaxAttempts: number, error?: unknown): { snooze: number } {
  const waits = waitsSoFar(job, workerMaxAttempts);
  const seconds = cluster ? cluster.unreachableDelay(waits) : unreachableDelay(waits);
  ctx.progress(0, (toErrorInfo(error).code === 'CLUSTER_NO_RAY' ? noRayMessage : unreachableMessage)(seconds));
  return { snooze: seconds };
}
