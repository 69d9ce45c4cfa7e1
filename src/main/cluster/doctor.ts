import { execa } from 'execa';
import type { DoctorCheck } from '../../shared/domain';
import { pythonEnvironment, pythonExists } from '../sidecar/environment';
import type { ClusterBackend } from './backend';

/** Ray's version in the sidecar environment, or null when it is not installed. */
export async function installedRay(): Promise<string | null> {
  const env = pythonEnvironment();
  if (!pythonExists(env)) return null;
  try {
    const { stdout } = await execa(env.python, ['-c', 'import importlib.metadata as m; print(m.version("ray"))'], { timeout: 30_000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** The ways to install Ray, named wherever it is missing. */
export const RAY_INSTALL_HINT = 'install it from the app (Settings → Cluster), with `sfa cluster install`, or `npm run setup -- --cluster` in a checkout';

/**
 * `sfa doctor`'s Ray line: the installed version (or "not installed"), the cluster address in use
 * and whether it answers. Without an address Ray is optional: the check passes either way.
 */
export async function rayCheck(cluster: ClusterBackend): Promise<DoctorCheck> {
  const version = await installedRay();
  let active;
  try {
    active = cluster.address ?? cluster.resolve();
  } catch (error) {
    return { name: 'ray', ok: false, version: version ?? undefined, detail: (error as Error).message };
  }
  const installed = version ? `ray ${version}` : 'not installed';
  if (!active) {
    return { name: 'ray', ok: true, version: version ?? undefined, detail: `${installed}; no cluster address configured (work runs on this machine)${version ? '' : `; to use a cluster, ${RAY_INSTALL_HINT}`}` };
  }
  if (!version) {
    return { name: 'ray', ok: false, detail: `not installed, but cluster address ${active.address} is configured (${active.source}): ${RAY_INSTALL_HINT}` };
  }
  const status = await cluster.status();
  return status.connected
    ? { name: 'ray', ok: true, version, detail: `address ${active.address} (${active.source}): reachable, ${status.nodes.filter((n) => n.alive).length} nodes, ${status.cpus} CPUs, ${status.gpus} GPUs` }
    : { name: 'ray', ok: false, version, detail: `address ${active.address} (${active.source}): NOT reachable: ${status.error ?? 'no answer'}` };
}
