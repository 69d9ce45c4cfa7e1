import { useLibraryStore } from '../../stores';

export function ImportProgress() {
  const importing = useLibraryStore((s) => s.importing);
  if (!importing) return null;
  const percent = importing.unit === 'bytes' && importing.total > 0 ? Math.min(100, Math.round((importing.done / importing.total) * 100)) : null;
  return (
    <div className="import-progress" role="status">
      <span>{importing.label}…</span>
      <div className={`bar${percent === null ? ' indeterminate' : ''}`}>
        <div className="fill" style={percent === null ? undefined : { width: `${percent}%` }} />
      </div>
      {percent !== null && <span className="muted small">{percent}%</span>}
    </div>
  );
}
