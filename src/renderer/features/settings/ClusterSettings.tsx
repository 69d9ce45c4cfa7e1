import { useState } from 'react';
import type { Settings } from '../../../shared/domain';
import { CLUSTER_TOKEN, isClusterAddress } from '../../../shared/patterns';
import { useActions } from '../../actions/context';
import { useSettingsStore } from '../../stores';
import { ClusterSupport } from '../setup/ClusterSupport';

type Cluster = NonNullable<Settings['cluster']>;

const SOURCE: Record<NonNullable<Cluster['active']>['source'], string> = { cli: '--cluster', env: 'SFA_RAY_ADDRESS', setting: 'this setting' };

/** A whole number in [min, max] from a field, null when it is blank, undefined when it is not valid. */
function slots(text: string, max: number): number | null | undefined {
  if (!text.trim()) return null;
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= max ? n : undefined;
}

const fieldText = (n: number | null | undefined) => (n == null ? '' : String(n));

/**
 * Settings → Cluster: separation and analysis on a Ray cluster. The address is checked with the
 * contract's own pattern before it is sent (the engine checks it again); the token is write-only,
 * like the Spotify secret: "stored" is shown, never the value. Ray missing: its Install button.
 */
export function ClusterSettings() {
  const actions = useActions();
  const cluster = useSettingsStore((s) => s.settings?.cluster);
  const [address, setAddress] = useState(cluster?.address ?? '');
  const [token, setToken] = useState('');
  const [threads, setThreads] = useState(fieldText(cluster?.threads));
  const [processing, setProcessing] = useState(fieldText(cluster?.concurrency.processing));
  const [analysis, setAnalysis] = useState(fieldText(cluster?.concurrency.analysis));
  const [saved, setSaved] = useState<string | null>(null);
  const edit = (set: (v: string) => void) => (e: { target: { value: string } }) => (setSaved(null), set(e.target.value));

  const addressOk = isClusterAddress(address.trim());
  const tokenOk = token === '' || CLUSTER_TOKEN.test(token);
  const values = { threads: slots(threads, 256), processing: slots(processing, 1024), analysis: slots(analysis, 1024) };
  const numbersOk = Object.values(values).every((v) => v !== undefined);
  const problems = [
    address.trim() && !addressOk ? 'The address must be ray://HOST:PORT (Ray Client) or a head on this machine (127.0.0.1:PORT, localhost:PORT).' : null,
    tokenOk ? null : 'The token must be 8-4096 printable characters without spaces.',
    numbersOk ? null : 'Threads: 1-256; separations and analyses at once: 1-1024 (blank: follow the cluster).',
  ].filter((p): p is string => !!p);
  // nothing leaves the form that the engine would refuse (it checks again: CLUSTER_ADDRESS)
  const valid = addressOk && problems.length === 0;

  const save = async () => {
    const ok = await actions.saveSettings({
      cluster: {
        address: address.trim(),
        ...(token ? { token } : {}),
        threads: values.threads ?? null,
        concurrency: { processing: values.processing ?? null, analysis: values.analysis ?? null },
      },
    });
    if (ok) setToken('');
    setSaved(ok ? 'Saved' : null);
  };
  const off = async () => {
    if (await actions.saveSettings({ cluster: { address: null } })) {
      setAddress('');
      setSaved('Off: work runs on this machine');
    }
  };
  const forgetToken = async () => {
    if (await actions.saveSettings({ cluster: { token: null } })) setSaved('Token removed');
  };

  const tokenState = cluster?.token.stored
    ? `stored in ${cluster.token.secretStore === 'os' ? "your system's credential store" : 'a file in the library folder only you can read'}`
    : cluster?.token.fromEnv
      ? 'from SFA_RAY_TOKEN'
      : 'none';
  return (
    <div className="panel" aria-labelledby="cluster-heading">
      <h2 id="cluster-heading">Cluster</h2>
      <p className="muted small">
        Separation and analysis on a Ray cluster for a large catalogue; the queue stays on this machine. A Ray cluster belongs on a private network: use token authentication.
      </p>
      <p className="small" role="status" aria-label="Cluster in use">
        {cluster?.active ? `Using ${cluster.active.address} (from ${SOURCE[cluster.active.source]}); token ${tokenState}.` : `Off: work runs on this machine; token ${tokenState}.`}
      </p>
      <ClusterSupport />
      <form
        className="settings-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) void save();
        }}
      >
        <label>
          <span>Address</span>
          <input type="text" className="mono" aria-label="Cluster address" placeholder="ray://head.internal:10001" aria-invalid={!!address.trim() && !addressOk} value={address} onChange={edit(setAddress)} />
        </label>
        <label>
          <span>Token {cluster?.token.stored ? '(stored; type a new one to replace it)' : ''}</span>
          <input type="password" className="mono" aria-label="Cluster token" autoComplete="off" aria-invalid={!tokenOk} value={token} onChange={edit(setToken)} />
        </label>
        <fieldset>
          <legend>On the cluster (blank: follow its resources)</legend>
          <label className="inline">
            <span>Separations at once</span>
            <input type="number" min={1} max={1024} aria-label="Cluster separations at once" value={processing} onChange={edit(setProcessing)} />
          </label>
          <label className="inline">
            <span>Analyses at once</span>
            <input type="number" min={1} max={1024} aria-label="Cluster analyses at once" value={analysis} onChange={edit(setAnalysis)} />
          </label>
          <label className="inline">
            <span>Threads per CPU separation</span>
            <input type="number" min={1} max={256} aria-label="Cluster threads" value={threads} onChange={edit(setThreads)} />
          </label>
        </fieldset>
        {problems.length > 0 && (
          <ul className="inline-errors" role="alert" aria-label="Cluster settings problems">
            {problems.map((p) => (
              <li key={p}>{p}</li>
            ))}
          </ul>
        )}
        <div className="toolbar">
          {saved && <span className="ok-text small">{saved}</span>}
          <button type="submit" className="button" disabled={!valid}>
            Save cluster
          </button>
          {cluster?.address && (
            <button type="button" className="button" onClick={() => void off()}>
              Off
            </button>
          )}
          {cluster?.token.stored && (
            <button type="button" className="button" onClick={() => void forgetToken()}>
              Remove token
            </button>
          )}
        </div>
      </form>
    </div>
  );
}
