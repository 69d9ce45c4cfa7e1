import { useActions } from '../../actions/context';
import { useSetupStore } from '../../stores/setup';

/** "Copy diagnostics": versions, doctor, device, recent failures and the last log lines, as text. */
export function DiagnosticsButton() {
  const actions = useActions();
  const { state, text, error } = useSetupStore((s) => s.diagnostics);
  return (
    <div className="diagnostics">
      <button type="button" className="button" disabled={state === 'loading'} onClick={() => void actions.setup.copyDiagnostics()}>
        {state === 'loading' ? 'Collecting…' : 'Copy diagnostics'}
      </button>
      {state === 'copied' && <span role="status"> Copied to the clipboard.</span>}
      {state === 'error' && <span role="alert"> {error}</span>}
      {state === 'shown' && text && (
        <label className="diagnostics-text">
          The clipboard is not available: copy the text below.
          <textarea readOnly value={text} rows={12} />
        </label>
      )}
    </div>
  );
}
