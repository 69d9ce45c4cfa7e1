import { useLibraryStore } from '../../stores';

export function ImportProgress() {
  const importing = useLibraryStore((s) => s.importing);
  if (!importing) return null;
  const pct = importing.unit === 'bytes' && importing.total > 0 ? Math.min(100, Math.round((importing.done / importing.total) * 100)) : null;
  return (
    <div className="import-progress" role="status">
      <span>{importing.label}…</span>
      <div className={`bar${pct === null ? ' indeterminate' : ''}`}>
        <div className="fill" style={pct === null ? undefined : { width: `${pct}%` }} />
      </div>
      {pct !== null && <span className="muted small">{pct}%</span>}
    </div>
  );
}
