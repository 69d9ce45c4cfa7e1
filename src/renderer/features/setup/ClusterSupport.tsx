import { useActions } from '../../actions/context';
import { useSetupStore } from '../../stores/setup';
import { SetupError } from './SetupError';

/**
 * The optional cluster support (Ray) in the engine's environment: its state, the Install button,
 * the install's progress, and a failure with its next steps, in Settings → Cluster (the setup
 * screen only has a box that starts the same install once the engine is ready).
 */
export function ClusterSupport() {
  const actions = useActions();
  const status = useSetupStore((s) => s.status);
  const requestError = useSetupStore((s) => s.clusterRequestError);
  if (!status) return null;
  const { cluster } = status;
  if (cluster.state === 'ready') {
    return (
      <p className="small cluster-support" role="status" aria-label="Cluster support">
        Cluster support: Ray {cluster.installed} is installed.
      </p>
    );
  }
  if (status.state !== 'ready') {
    return (
      <p className="small muted cluster-support" role="status" aria-label="Cluster support">
        Cluster support (Ray) installs into the engine&apos;s Python environment: finish the engine setup first.
      </p>
    );
  }
  const installing = cluster.state === 'installing';
  return (
    <div className="cluster-support">
      <p className="small" role="status" aria-label="Cluster support">
        {installing ? `Installing Ray: ${Math.round((cluster.progress?.fraction ?? 0) * 100)}%${cluster.progress?.message ? ` — ${cluster.progress.message}` : ''}` : 'Ray is not installed: work runs on this machine only.'}
      </p>
      {installing && <progress max={1} value={cluster.progress?.fraction ?? 0} aria-label="Ray install progress" />}
      {cluster.error && !installing && <SetupError title="The Ray install failed:" error={cluster.error} />}
      {requestError && <p role="alert">{requestError}</p>}
      <button type="button" className="button" disabled={installing} onClick={() => void actions.setup.installCluster()}>
        {installing ? 'Installing Ray…' : `Install cluster support (Ray, about ${cluster.sizeMb} MB)`}
      </button>
    </div>
  );
}
