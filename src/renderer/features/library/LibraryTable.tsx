import { useMemo, useState } from 'react';
import type { TrackListItem } from '../../../shared/domain';
import { SOURCE_LABELS, STATUS_LABELS, formatBpm, formatDuration, formatKey, formatSampleRate } from './format';

type Value = string | number | null;

interface Column {
  key: string;
  label: string;
  numeric?: boolean;
  value: (t: TrackListItem) => Value;
}

const COLUMNS: Column[] = [
  { key: 'title', label: 'Title', value: (t) => t.title },
  { key: 'artist', label: 'Artist', value: (t) => t.artist },
  { key: 'duration', label: 'Duration', numeric: true, value: (t) => t.duration },
  { key: 'bpm', label: 'BPM', numeric: true, value: (t) => t.analysis?.bpm ?? null },
  { key: 'key', label: 'Key', value: (t) => t.analysis?.camelot ?? t.analysis?.key ?? null },
  { key: 'sampleRate', label: 'Sample rate', numeric: true, value: (t) => t.sampleRate },
  { key: 'status', label: 'Status', value: (t) => STATUS_LABELS[t.status] },
];

const ADDED: Column = { key: 'addedAt', label: 'Added', value: (t) => t.addedAt };

/** Nulls (not analysed, unknown) sort last whichever the direction. */
function compare(a: Value, b: Value, dir: 1 | -1): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b), undefined, { sensitivity: 'base', numeric: true });
  return order * dir;
}

/** The library as a sortable table. Tag text is rendered as text, never as HTML. */
export function LibraryTable({ tracks }: { tracks: TrackListItem[] }) {
  const [sort, setSort] = useState<{ column: Column; dir: 1 | -1 }>({ column: ADDED, dir: -1 });
  const sorted = useMemo(() => [...tracks].sort((a, b) => compare(sort.column.value(a), sort.column.value(b), sort.dir)), [tracks, sort]);
  const toggle = (column: Column) => setSort((s) => ({ column, dir: s.column.key === column.key ? (s.dir === 1 ? -1 : 1) : 1 }));

  return (
    <table className="library-table" aria-label="Library">
      <thead>
        <tr>
          {COLUMNS.map((c) => {
            const active = sort.column.key === c.key;
            return (
              <th key={c.key} className={c.numeric ? 'num' : undefined} aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
                <button type="button" className="sort" onClick={() => toggle(c)}>
                  {c.label}
                  <span className="sort-mark" aria-hidden="true">{active ? (sort.dir === 1 ? '▲' : '▼') : ''}</span>
                </button>
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {sorted.map((t) => (
          <tr key={t.id} data-track-id={t.id}>
            <td data-col="title">
              <div className="title-line">
                <span className="track-title" title={t.source}>{t.title}</span>
                <span className={`source-tag source-${t.sourceKind}`}>{SOURCE_LABELS[t.sourceKind]}</span>
                {t.stemCount > 0 && <span className="source-tag stems-tag">{t.stemCount} stems</span>}
              </div>
            </td>
            <td data-col="artist" className={t.artist ? undefined : 'muted'}>{t.artist ?? 'Unknown artist'}</td>
            <td data-col="duration" className="num">{formatDuration(t.duration)}</td>
            <td data-col="bpm" className="num">{formatBpm(t.analysis?.bpm ?? null)}</td>
            <td data-col="key" title={t.analysis?.key ?? undefined}>{formatKey(t.analysis)}</td>
            <td data-col="sampleRate" className="num">{formatSampleRate(t.sampleRate)}</td>
            <td data-col="status">
              <span className={`status status-${t.status}`} title={t.error ?? undefined}>{STATUS_LABELS[t.status]}</span>
              {t.error ? <div className="status-error">{t.error}</div> : null}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
