import { SfaError, toErrorInfo } from '../../shared/errors';
import { defaultBackoff } from '../jobs/backoff';

/** Where a job's work ran on the cluster, as the driver reports it (the result's `cluster` key). */
export interface ClusterPlacement {
  nodeId: string;
  nodeIp: string;
  actor?: string;
  transferSeconds?: number;
  bytesSent?: number;
  bytesReceived?: number;
}

/** Where a job runs or ran, as the jobs table keeps it (migration 009). */
export interface JobNode {
  ip: string;
  id: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
/** Node ids are hex (Ray's 56-character NodeID); an ip is an IPv4/IPv6 literal or a host name. */
const NODE_ID = /^[0-9a-f]{8,64}$/i;
const NODE_IP = /^[0-9A-Za-z.:-]{1,255}$/;

/**
 * A driver's result without its `cluster` key (so the same contract checks apply as to a local
 * result) and the placement it described. A result without the key (a local sidecar) passes through.
 * A malformed key is a driver bug: refused, not guessed at.
 */
export function takePlacement<T>(result: T): { result: T; placement: ClusterPlacement | null } {
  if (!isRecord(result) || !('cluster' in result)) return { result, placement: null };
  const { cluster, ...rest } = result;
  if (!isRecord(cluster) || typeof cluster.nodeId !== 'string' || typeof cluster.nodeIp !== 'string' || !NODE_ID.test(cluster.nodeId) || !NODE_IP.test(cluster.nodeIp)) {
    throw new SfaError('INTERNAL', `The cluster driver described where the job ran in an unexpected shape (${JSON.stringify(cluster).slice(0, 200)}).`);
  }
  const placement: ClusterPlacement = { nodeId: cluster.nodeId, nodeIp: cluster.nodeIp };
  if (typeof cluster.actor === 'string') placement.actor = cluster.actor.slice(0, 200);
  for (const key of ['transferSeconds', 'bytesSent', 'bytesReceived'] as const) {
    const value = cluster[key];
    if (typeof value === 'number' && Number.isFinite(value) && value >= 0) placement[key] = value;
  }
  return { result: rest as T, placement };
}

/** The driver's first progress message of a job: `running on node <ip> (<nodeId[:8]>)`. */
const RUNNING_ON = /^running on node (\S{1,255}) \(([0-9a-f]{8,64})\)$/i;

export function runningOn(message: string): JobNode | null {
  const m = RUNNING_ON.exec(message);
  return m && NODE_IP.test(m[1]!) ? { ip: m[1]!, id: m[2]! } : null;
}

export const describeNode = (node: JobNode): string => `${node.ip} (${node.id.slice(0, 8)})`;

/**
 * Seconds a job waits for an unreachable cluster before it tries again: 5, 10, 20, then every 30.
 * `waits` is how many times it has waited already (the snoozes of this job so far).
 */
export function unreachableDelay(waits: number): number {
  return Math.min(30, 5 * 2 ** Math.max(0, Math.min(3, waits)));
}

export const unreachableMessage = (seconds: number): string => `cluster unreachable: waiting (retrying in ${Math.round(seconds)}s)`;

/** Ray is being (or must be) installed: the same wait, said as what it is. */
export const noRayMessage = (seconds: number): string => `Ray not installed: waiting for cluster support to be installed (retrying in ${Math.round(seconds)}s)`;

/**
 * True for the errors a driver raises when the cluster cannot be used yet: its head unreachable, or
 * Ray not installed here (jobs wait; no attempt spent).
 */
export const isUnreachable = (error: unknown): boolean => ['CLUSTER_UNREACHABLE', 'CLUSTER_NO_RAY'].includes(toErrorInfo(error).code);

/**
 * How many times a job has waited for the cluster: each snooze raised `maxAttempts` by one above
 * the worker's own, so the difference counts them (a manual retry may add one; harmless here).
 */
export const waitsSoFar = (job: { maxAttempts: number }, workerMaxAttempts: number): number => Math.max(0, job.maxAttempts - workerMaxAttempts);

/**
 * Retry delay of a separation or analysis: a node lost mid-job says nothing about the job (Ray
 * places the next attempt's actor on a live node), so it retries after a few seconds; everything
 * else keeps the scheduler's default backoff.
 */
export function workBackoff(attempt: number, error: unknown, random: () => number): number {
  if (toErrorInfo(error).code === 'NODE_LOST') return 2 + Math.floor(random() * 3) * Math.max(1, attempt);
  return defaultBackoff(attempt, random);
}
