import { resolve } from 'node:path';
import type { ClusterInstallStatus, ClusterStatus } from '../../shared/contract';
import type { Engine } from '../engine';
import { checkClusterAddress } from '../cluster/config';
import { call } from './call';
import type { CommandSpec } from './commands';
import { UsageError, type CommandContext } from './context';
import { EXIT, table } from './output';

/** `--cluster ADDRESS` of `sfa run` / `sfa serve`: checked before the engine opens (CLUSTER_ADDRESS, exit 2). */
export const clusterOption = { cluster: { type: 'string' as const } };

export function clusterFlag(values: Record<string, unknown>): string | undefined {
  return typeof values.cluster === 'string' ? checkClusterAddress(values.cluster, '--cluster') : undefined;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function describe(status: ClusterStatus): string {
  if (!status.address) return 'No cluster address: separation and analysis run on this machine. Set one with `sfa cluster set ray://HOST:PORT`, `--cluster`, or SFA_RAY_ADDRESS.';
  const head = [
    `address   ${status.address} (from ${status.source === 'cli' ? '--cluster' : status.source === 'env' ? 'SFA_RAY_ADDRESS' : 'the setting'})`,
    `state     ${status.connected ? 'connected' : `NOT connected: ${status.error ?? ''}`}`,
    `resources ${status.cpus} CPUs, ${status.gpus} GPUs; suggested concurrency ${status.suggested ? `${status.suggested.processing} separations, ${status.suggested.analysis} analyses` : 'unknown'}`,
    `queues    processing ${status.concurrency.processing}, analysis ${status.concurrency.analysis}`,
  ].join('\n');
  const nodes = status.nodes.length
    ? table(['node', 'ip', 'alive', 'CPUs', 'GPUs', 'actors', 'our jobs'], status.nodes.map((n) => [
        n.nodeId.slice(0, 8), n.ip, n.alive ? 'yes' : 'NO', n.cpus, n.gpus,
        status.actors.filter((a) => a.nodeId === n.nodeId).map((a) => a.kind).join(', '), n.inFlight,
      ]))
    : '';
  const jobs = status.jobs.length
    ? table(['job', 'worker', 'node', 'progress'], status.jobs.map((j) => [
        j.id, j.worker, j.node ? `${j.node.ip} (${j.node.id.slice(0, 8)})` : 'starting',
        j.progress ? `${Math.round(j.progress.percent)}% ${j.progress.message ?? ''}` : '',
      ]))
    : 'No job running on the cluster.';
  return [head, nodes, jobs].filter(Boolean).join('\n\n');
}

/** What a finished (or refused) install says to a person. */
function describeInstall(status: ClusterInstallStatus, already: boolean): string {
  if (status.state === 'ready') return already ? `ray ${status.installed} is already installed` : `ray ${status.installed} installed: set a cluster with sfa cluster set ray://HOST:PORT`;
  const error = status.error;
  if (!error) return `the Ray install ended without Ray (${status.state})`;
  const next = error.nextSteps.map((n) => `  - ${n}`).join('\n');
  const detail = error.detail ? `\n${error.detail.split('\n').slice(-10).map((l) => `  | ${l}`).join('\n')}` : '';
  return `${error.message}${detail}${next ? `\nNext steps:\n${next}` : ''}`;
}

/**
 * `sfa cluster install [--offline DIR]`: the pinned Ray into the engine's environment, through the
 * contract's `cluster.install` (the request the app's Install buttons send), waiting for its end.
 */
async function install(ctx: CommandContext, engine: Engine, offlineDir: string | undefined): Promise<number> {
  let shown = -1;
  let resolveEnd: (status: ClusterInstallStatus) => void = () => {};
  const ended = new Promise<ClusterInstallStatus>((r) => (resolveEnd = r));
  const off = engine.events.subscribe((event, payload) => {
    if (event !== 'cluster:install') return;
    const status = payload as ClusterInstallStatus;
    if (status.state !== 'installing') return resolveEnd(status);
    const percent = Math.floor((status.progress?.fraction ?? 0) * 100);
    if (percent === shown || ctx.out.json || !process.stderr.isTTY) return;
    shown = percent;
    process.stderr.write(`\rinstalling Ray ${percent}%  ${status.progress?.message ?? ''}`.slice(0, 100).padEnd(100));
  });
  try {
    const started = await call(engine, 'cluster.install', offlineDir ? { offlineDir } : {});
    if (started.state === 'installing') ctx.out.note(`installing Ray (about ${started.sizeMb} MB) into the engine's Python environment`);
    const status = started.state === 'installing' ? await ended : started;
    if (shown >= 0) process.stderr.write('\n');
    ctx.out.result(status, () => describeInstall(status, started.state === 'ready'));
    return status.state === 'ready' ? EXIT.ok : EXIT.failed;
  } finally {
    off();
  }
}

/**
 * `sfa cluster`: where separation and analysis run. `status` shows the nodes, their CPUs/GPUs and
 * actors, and our jobs per node; `set ADDRESS` stores the address (the token from stdin with
 * `--token-stdin`, kept in the secret store); `off` goes back to this machine; `install` puts Ray into the engine's environment.
 */
export const cluster: CommandSpec = {
  summary: 'separation and analysis on a Ray cluster: status (nodes, CPUs/GPUs, actors, jobs per node), set ADDRESS, off, install (Ray)',
  usage: 'sfa cluster [status] | set ray://HOST:PORT [--token-stdin] [--threads N] | off | install [--offline DIR]   [--json]',
  options: { 'token-stdin': { type: 'boolean' }, threads: { type: 'string' }, offline: { type: 'string' } },
  allowPositionals: true,
  async run(ctx, values, positionals) {
    const [sub = 'status', ...rest] = positionals;
    if (values.offline !== undefined && sub !== 'install') throw new UsageError('--offline applies to cluster install only');
    if (sub === 'status') {
      if (rest.length) throw new UsageError('status takes no argument');
      const status = await call(await ctx.engine(), 'cluster.status', {});
      ctx.out.result(status, () => describe(status));
      return !status.address || status.connected ? EXIT.ok : EXIT.failed;
    }
    if (sub === 'set' || sub === 'off') {
      if (sub === 'set' && rest.length !== 1) throw new UsageError('set takes one address: sfa cluster set ray://HOST:PORT');
      if (sub === 'off' && (rest.length || values['token-stdin'])) throw new UsageError('off takes no argument');
      const threads = values.threads === undefined ? undefined : Number(values.threads);
      const token = values['token-stdin'] ? await readStdin() : undefined;
      const settings = await call(await ctx.engine(), 'settings.set', {
        cluster: sub === 'off' ? { address: null } : { address: rest[0]!, ...(token ? { token } : {}), ...(threads !== undefined ? { threads } : {}) },
      });
      ctx.out.result({ cluster: settings.cluster ?? null }, () =>
        settings.cluster?.address
          ? `cluster address ${settings.cluster.address} stored; token ${settings.cluster.token.stored ? 'stored' : settings.cluster.token.fromEnv ? 'from SFA_RAY_TOKEN' : 'none'}. Check it with: sfa cluster status`
          : 'cluster address cleared: work runs on this machine',
      );
      return EXIT.ok;
    }
    if (sub === 'install') {
      if (rest.length) throw new UsageError('install takes no argument (an offline folder of wheels: --offline DIR)');
      // a relative folder is the shell's, not the engine's
      return install(ctx, await ctx.engine(), typeof values.offline === 'string' ? resolve(values.offline) : undefined);
    }
    throw new UsageError(`unknown cluster command "${sub}" (status, set, off, install)`);
  },
};
