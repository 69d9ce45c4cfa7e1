import { join } from 'node:path';
import { SfaError } from '../../../shared/errors';
import type { RequestParams } from '../../../shared/contract';
import { rayCheck } from '../../cluster/doctor';
import { checkClusterAddress, CLUSTER_SETTING_DEFAULTS, type ClusterSettings } from '../../cluster/config';
import type { StoredSettings } from '../../settings';
import { diagnosticsText } from '../../system/diagnostics';
import { doctor } from '../../system/doctor';
import type { Handlers } from '../index';
import { assertWritable, type Services } from '../services';
import { queueStats } from '../views';

type SystemHandlers = Pick<
  Handlers,
  | 'settings.get'
  | 'settings.set'
  | 'system.doctor'
  | 'system.info'
  | 'system.diagnostics'
  | 'models.list'
  | 'models.download'
  | 'models.import'
  | 'models.remove'
  | 'setup.status'
  | 'setup.start'
  | 'cluster.status'
  | 'cluster.install'
>;

type ClusterPatch = NonNullable<RequestParams<'settings.set'>['cluster']>;

/** Stored cluster settings with a patch over them (undefined keeps a value, null clears it). */
function mergeCluster(stored: ClusterSettings | undefined, patch: ClusterPatch): ClusterSettings {
  const base = { ...CLUSTER_SETTING_DEFAULTS, ...stored, concurrency: { ...CLUSTER_SETTING_DEFAULTS.concurrency, ...stored?.concurrency } };
  return {
    address: patch.address === undefined ? base.address : patch.address,
    threads: patch.threads === undefined ? base.threads : patch.threads,
    concurrency: {
      processing: patch.concurrency?.processing === undefined ? base.concurrency.processing : patch.concurrency.processing,
      analysis: patch.concurrency?.analysis === undefined ? base.concurrency.analysis : patch.concurrency.analysis,
    },
  };
}

export function systemHandlers(s: Services): SystemHandlers {
  const doctorWithRay = async () => {
    const [report, ray] = await Promise.all([doctor(s.sidecars.probe), rayCheck(s.cluster)]);
    return { checks: [...report.checks, ray] };
  };
  const info = () => ({ version: s.version, home: s.paths.root, host: s.host, canPassPaths: s.canPassPaths });
  return {
    'settings.get': () => s.settings.current(),
    'settings.set': (patch) => {
      assertWritable(s);
      const { toolPaths, concurrency, spotify, cluster, ...rest } = patch;
      const stored = s.settings.stored();
      // the one address rule, with its own error code (CLUSTER_ADDRESS), before anything is saved
      if (typeof cluster?.address === 'string') checkClusterAddress(cluster.address, 'cluster.address');
      const next: StoredSettings = {
        ...stored,
        ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
        ...(spotify?.clientId !== undefined ? { spotifyClientId: spotify.clientId } : {}),
        concurrency: { ...stored.concurrency, ...concurrency },
        toolPaths: { ...stored.toolPaths, ...(toolPaths?.ffmpeg !== undefined ? { ffmpeg: toolPaths.ffmpeg } : {}) },
        ...(cluster ? { cluster: mergeCluster(stored.cluster, cluster) } : {}),
      };
      const known = new Set(queueStats(s.scheduler.stats()).map((q) => q.name));
      for (const q of Object.keys(concurrency ?? {})) if (!known.has(q)) throw new SfaError('BAD_REQUEST', `No queue named ${q}.`);
      // the token never enters the settings table: the host's secret store, like the Spotify secret
      if (cluster?.token !== undefined) s.secrets.set('cluster.token', cluster.token);
      s.settings.save(next);
      // the secret never enters the settings table: the host's secret store (OS credential store in the desktop app)
      if (spotify?.clientSecret !== undefined) s.secrets.set('spotify.clientSecret', spotify.clientSecret);
      else if (spotify?.clientId === null) s.secrets.set('spotify.clientSecret', null);
      // Applied now: queue concurrency; the pipeline reads model/device/format at each enqueue.
      for (const [q, limit] of Object.entries(concurrency ?? {})) s.scaleQueue(q, limit);
      return s.settings.current();
    },
    'system.doctor': () => doctorWithRay(),
    'system.info': () => info(),
    'system.diagnostics': async () => ({
      text: await diagnosticsText({
        info: info(),
        doctor: doctorWithRay,
        setup: () => s.setup.status(),
        recentFailures: () => s.scheduler.recentFailures(10),
        logFile: join(s.paths.logs, 'engine.log'),
      }),
    }),
    'models.list': () => ({ dir: s.models.dir, models: s.models.list() }),
    'models.download': async ({ name }) => {
      assertWritable(s);
      const downloaded = !s.models.isInstalled(name);
      return { model: await s.models.download(name), downloaded };
    },
    'models.import': async ({ path, name }) => {
      assertWritable(s);
      const imported = await s.models.import(path, { name });
      return { imported, models: s.models.list().filter((m) => imported.includes(m.name)) };
    },
    'models.remove': ({ name }) => (assertWritable(s), s.models.remove(name)),
    // Ray's presence is asked of the environment each time (it may have been installed from a terminal)
    'setup.status': async () => (await s.setup.cluster.refresh(), s.setup.status()),
    'setup.start': (p) => (assertWritable(s), s.setup.start({ offlineDir: p?.offlineDir })),
    'cluster.status': () => s.cluster.status(),
    'cluster.install': async (p) => {
      assertWritable(s);
      await s.setup.cluster.refresh();
      return s.setup.installCluster({ offlineDir: p?.offlineDir });
    },
  };
}
