import { useActions } from '../../actions/context';
import { useJobsStore, useSystemStore } from '../../stores';

/** Device (from the doctor's torch check, run only when asked: it imports torch) and queue counts. */
export function StatusBar() {
  const actions = useActions();
  const queues = useJobsStore((s) => s.queues);
  const doctor = useSystemStore((s) => s.doctor);
  const doctorStatus = useSystemStore((s) => s.doctorStatus);
  const torch = doctor?.checks.find((c) => c.name === 'torch');
  const device = torch ? (torch.ok ? (torch.detail ?? torch.version ?? 'torch ok') : `no torch: ${torch.detail ?? 'missing'}`) : null;
  return (
    <footer className="status-bar" aria-label="Status">
      <span className="status-device">
        Device:{' '}
        {device ? (
          <span title={torch?.path}>{device}</span>
        ) : doctorStatus === 'running' ? (
          <span className="muted">checking…</span>
        ) : (
          <button type="button" className="link-btn" onClick={() => void actions.runDoctor()}>
            check
          </button>
        )}
      </span>
      <span className="status-queues">
        {queues.map((q) => (
          <span key={q.name} className={`status-queue${q.paused ? ' paused' : ''}`} data-queue={q.name}>
            {q.name} {q.running}/{q.limit}
            {q.counts.available + q.counts.retryable > 0 ? ` +${q.counts.available + q.counts.retryable}` : ''}
            {q.paused ? ' (paused)' : ''}
          </span>
        ))}
      </span>
    </footer>
  );
}
