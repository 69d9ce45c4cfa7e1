import type { ClusterInstallStatus } from '../../shared/contract';
import type { Client } from '../api';
import { useSetupStore } from '../stores/setup';
import { errorText } from './notices';

/** First-run setup and "copy diagnostics": effects over the contract, state in stores/setup.ts. */
export interface SetupActions {
  load(): Promise<void>;
  /** Start or resume the setup (`offlineDir`: a folder of wheels/ and models/). */
  start(offlineDir?: string): Promise<void>;
  /** Install the optional cluster support (Ray) into the ready environment; progress comes as `cluster:install`. */
  installCluster(offlineDir?: string): Promise<void>;
  /** The setup screen's optional box: install cluster support as soon as the engine is ready. */
  wantCluster(wanted: boolean): void;
  dismiss(): void;
  /** Fetch `system.diagnostics` and put it on the clipboard (or show it where the clipboard is refused). */
  copyDiagnostics(): Promise<void>;
}

export function createSetupActions(client: Client): SetupActions {
  const installCluster = async (offlineDir?: string) => {
    try {
      const cluster = await client.request('cluster.install', offlineDir ? { offlineDir } : {});
      applyCluster(cluster);
      useSetupStore.setState({ clusterRequestError: null });
    } catch (error) {
      useSetupStore.setState({ clusterRequestError: errorText(error) });
    }
  };
  const load = async () => {
    try {
      const status = await client.request('setup.status');
      useSetupStore.setState({ status, requestError: null });
      // Ray installs into the ready environment: what the setup screen's box asked for starts now,
      // in the background (its progress shows in Settings → Cluster); no dialog to click through
      if (status.state === 'ready' && useSetupStore.getState().clusterWanted) {
        useSetupStore.setState({ clusterWanted: false });
        if (status.cluster.state === 'absent' || status.cluster.state === 'failed') await installCluster();
      }
    } catch (error) {
      useSetupStore.setState({ requestError: errorText(error) });
    }
  };
  return {
    load,
    installCluster,
    wantCluster: (wanted) => useSetupStore.setState({ clusterWanted: wanted }),
    async start(offlineDir) {
      try {
        const status = await client.request('setup.start', offlineDir ? { offlineDir } : {});
        useSetupStore.setState({ status, progress: status.progress, requestError: null });
      } catch (error) {
        useSetupStore.setState({ requestError: errorText(error) });
      }
    },
    dismiss: () => useSetupStore.setState({ dismissed: true }),
    async copyDiagnostics() {
      useSetupStore.setState({ diagnostics: { state: 'loading', text: null, error: null } });
      try {
        const { text } = await client.request('system.diagnostics');
        try {
          await navigator.clipboard.writeText(text);
          useSetupStore.setState({ diagnostics: { state: 'copied', text, error: null } });
        } catch {
          useSetupStore.setState({ diagnostics: { state: 'shown', text, error: null } });
        }
      } catch (error) {
        useSetupStore.setState({ diagnostics: { state: 'error', text: null, error: errorText(error) } });
      }
    },
  };
}

function applyCluster(cluster: ClusterInstallStatus): void {
  useSetupStore.setState((s) => (s.status ? { status: { ...s.status, cluster } } : {}));
}

/** Keeps the setup state fresh: each progress event; the status again at each step boundary; the Ray install's own status. */
export function subscribeSetup(client: Client, load: () => Promise<void>): () => void {
  const offs = [
    client.on('setup:progress', (progress) => {
      useSetupStore.setState({ progress });
      if (progress.fraction === 0 || progress.fraction === 1 || /^(Failed|Setup complete)/.test(progress.message)) void load();
    }),
    client.on('cluster:install', applyCluster),
  ];
  return () => offs.forEach((off) => off());
}
