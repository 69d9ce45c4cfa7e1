import { useActions } from '../../actions/context';
import { useNoticesStore } from '../../stores';

/** Toasts: errors stay until dismissed and list each problem with its message. */
export function Notices() {
  const notices = useNoticesStore((s) => s.notices);
  const actions = useActions();
  return (
    <div className="notices" aria-live="polite">
      {notices.map((n) => (
        <div key={n.id} className={`notice notice-${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
          <div className="notice-body">
            <div className="notice-title">{n.title}</div>
            {n.details && (
              <ul className="notice-details">
                {n.details.map((d, i) => (
                  <li key={i}>{d}</li>
                ))}
              </ul>
            )}
          </div>
          <button type="button" className="notice-close" aria-label="Dismiss" onClick={() => actions.dismissNotice(n.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
