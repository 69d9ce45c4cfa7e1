import { useEffect } from 'react';
import { useActions } from '../../actions/context';
import { useSystemStore } from '../../stores';
import { DiagnosticsButton } from './DiagnosticsButton';

const HOST_LABELS = { electron: 'Desktop app', serve: 'Browser (sfa serve)', cli: 'Command line' } as const;

/** What this installation can do: the host, and each doctor check with its version and path. */
export function SystemView() {
  const actions = useActions();
  const { info, doctor, doctorStatus, doctorError, doctorCheckedAt } = useSystemStore();

  useEffect(() => {
    if (useSystemStore.getState().doctorStatus === 'idle') void actions.runDoctor();
  }, [actions]);

  const failing = doctor?.checks.filter((c) => !c.ok).length ?? 0;

  return (
    <section className="view system-view" aria-labelledby="system-heading">
      <header className="view-header">
        <div>
          <h1 id="system-heading">System</h1>
          <p className="muted small">
            {doctorStatus === 'running'
              ? 'Running checks…'
              : doctor
                ? failing
                  ? `${failing} of ${doctor.checks.length} checks need attention`
                  : `All ${doctor.checks.length} checks passed`
                : '\u00a0'}
          </p>
        </div>
        <div className="toolbar">
          <button type="button" className="button" onClick={() => void actions.runDoctor()} disabled={doctorStatus === 'running'}>
            {doctorStatus === 'running' ? 'Checking…' : 'Run checks again'}
          </button>
          <DiagnosticsButton />
        </div>
      </header>
      <div className="view-body">
        <dl className="panel info-grid">
          <dt>Version</dt>
          <dd>{info?.version ?? '—'}</dd>
          <dt>Running as</dt>
          <dd>{info ? HOST_LABELS[info.host] : '—'}</dd>
          <dt>Data folder</dt>
          <dd className="mono">{info?.home ?? '—'}</dd>
          <dt>Adding files</dt>
          <dd>{info ? (info.canPassPaths ? 'referenced where they are' : 'uploaded to the data folder') : '—'}</dd>
        </dl>

        {doctorError && (
          <div className="panel error-panel" role="alert">
            <strong>The checks could not run.</strong>
            <p>{doctorError}</p>
          </div>
        )}

        {doctor && (
          <table className="doctor-table" aria-label="System checks">
            <thead>
              <tr>
                <th className="state-col" aria-label="Result" />
                <th>Check</th>
                <th>Version</th>
                <th>Path</th>
                <th>Detail</th>
              </tr>
            </thead>
            <tbody>
              {doctor.checks.map((c) => (
                <tr key={c.name} className={c.ok ? 'ok' : 'bad'} data-check={c.name}>
                  <td className="state-col">
                    <span className={`check-mark ${c.ok ? 'ok' : 'bad'}`} role="img" aria-label={c.ok ? 'OK' : 'Problem'}>
                      {c.ok ? '✓' : '✕'}
                    </span>
                  </td>
                  <td className="check-name">{c.name}</td>
                  <td>{c.version ?? <span className="muted">—</span>}</td>
                  <td className="mono path" title={c.path}>{c.path ?? <span className="muted">—</span>}</td>
                  <td className={c.ok ? 'muted' : undefined}>{c.detail ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {doctorCheckedAt && <p className="muted small">Checked at {new Date(doctorCheckedAt).toLocaleTimeString()}.</p>}
      </div>
    </section>
  );
}
