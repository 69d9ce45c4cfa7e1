import { isClusterAddress } from '../../shared/patterns';
import { SfaError } from '../../shared/errors';

/** Where the active cluster address came from (first match wins, in this order). */
export type ClusterAddressSource = 'cli' | 'env' | 'setting';

export interface ClusterAddress {
  address: string;
  source: ClusterAddressSource;
}

/** The stored cluster settings (`settings` key `cluster`); the token lives in the secret store. */
export interface ClusterSettings {
  /** `ray://HOST:PORT` or a local head `127.0.0.1:PORT` / `localhost:PORT`; null: work locally. */
  address: string | null;
  /** Queue concurrency while on the cluster; null follows the cluster's resources (`suggested`). */
  concurrency: { processing: number | null; analysis: number | null };
  /** Threads per CPU separation actor (SFA_CLUSTER_THREADS); null: the driver's default. */
  threads: number | null;
}

export const CLUSTER_SETTING_DEFAULTS: ClusterSettings = { address: null, concurrency: { processing: null, analysis: null }, threads: null };

/** The one check of an address from any source: CLUSTER_ADDRESS (discard) with what is accepted. */
export function checkClusterAddress(value: string, where: string): string {
  const shown = JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (isClusterAddress(value)) return value;
  throw new SfaError(
    'CLUSTER_ADDRESS',
    `${where}: ${shown} is not a cluster address. Use ray://HOST:PORT (Ray Client, e.g. ray://head.internal:10001) or a head on this machine (127.0.0.1:PORT or localhost:PORT); nothing else (no user, path or query).`,
  );
}

/** The active address: the CLI's `--cluster`, then env SFA_RAY_ADDRESS, then the setting; null = local. */
export function activeClusterAddress(input: { cli?: string | null; env?: string | undefined; setting: string | null }): ClusterAddress | null {
  if (input.cli) return { address: checkClusterAddress(input.cli, '--cluster'), source: 'cli' };
  const env = input.env?.trim();
  if (env) return { address: checkClusterAddress(env, 'SFA_RAY_ADDRESS'), source: 'env' };
  if (input.setting) return { address: checkClusterAddress(input.setting, 'the cluster.address setting'), source: 'setting' };
  return null;
}

/** How a driver process is started: the sidecar in cluster mode, the address and token in its environment. */
export function driverOptions(address: string, token: string | null, threads: number | null): { args: string[]; vars: Record<string, string | undefined> } {
  return {
    args: ['--cluster'],
    vars: { SFA_RAY_ADDRESS: address, SFA_RAY_TOKEN: token ?? undefined, SFA_CLUSTER_THREADS: threads ? String(threads) : undefined },
  };
}

/** What a local sidecar gets instead: none of the cluster variables (the user's env may hold them). */
export const LOCAL_VARS: Record<string, undefined> = { SFA_RAY_ADDRESS: undefined, SFA_RAY_TOKEN: undefined, SFA_CLUSTER_THREADS: undefined };
