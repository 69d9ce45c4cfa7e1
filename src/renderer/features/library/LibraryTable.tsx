import { memo, useMemo, type MouseEvent } from 'react';
import type { JobInfo, TrackListItem } from '../../../shared/domain';
import { useActions } from '../../actions/context';
import { VirtualList } from '../../components/VirtualList';
import { CAMELOT_NAMES } from '../../lib/camelot';
import { jobsByTrack, pipelineStatus, type PipelineStatus } from '../../lib/pipeline';
import { filterTracks, nextSelection, sortTracks, type SortKey } from '../../lib/query';
import { useJobsStore, useLibraryStore, useUiStore } from '../../stores';
import { formatBpm, formatDuration, SOURCE_LABELS } from './format';

interface Column {
  key: SortKey;
  label: string;
  numeric?: boolean;
}

const COLUMNS: Column[] = [
  { key: 'title', label: 'Title' },
  { key: 'artist', label: 'Artist' },
  { key: 'duration', label: 'Time', numeric: true },
  { key: 'bpm', label: 'BPM', numeric: true },
  { key: 'key', label: 'Key' },
  { key: 'energy', label: 'Energy', numeric: true },
  { key: 'loudness', label: 'LUFS', numeric: true },
  { key: 'source', label: 'Source' },
  { key: 'status', label: 'Status' },
];

export const ROW_HEIGHT = 36;

function keyText(a: TrackListItem['analysis']): string {
  if (!a || (!a.camelot && !a.key)) return '—';
  const name = a.key ?? (a.camelot ? CAMELOT_NAMES[a.camelot] : null);
  return [a.camelot, name].filter(Boolean).join(' · ');
}

function energyText(e: number | null | undefined): string {
  if (e === null || e === undefined || !Number.isFinite(e)) return '—';
  return e <= 1 ? String(Math.round(e * 10)) : e.toFixed(e >= 10 ? 0 : 1);
}

const Row = memo(function Row({ t, status, mixesWith, onOpen }: { t: TrackListItem; status: PipelineStatus; mixesWith: string | null; onOpen: (id: string) => void }) {
  const a = t.analysis;
  return (
    <>
      <div role="cell" data-col="title" className="cell title-cell">
        <button
          type="button"
          className="row-open"
          aria-label={`Open ${t.title}`}
          title="Open the track and its stems"
          onClick={(e) => {
            e.stopPropagation();
            onOpen(t.id);
          }}
        >
          ▸
        </button>
        <span className="track-title" title={t.source}>{t.title}</span>
        {t.stemCount > 0 && <span className="tag stems-tag">{t.stemCount} stems</span>}
      </div>
      <div role="cell" data-col="artist" className={`cell${t.artist ? '' : ' muted'}`}>{t.artist ?? 'Unknown artist'}</div>
      <div role="cell" data-col="duration" className="cell num">{formatDuration(t.duration)}</div>
      <div role="cell" data-col="bpm" className="cell num">{formatBpm(a?.bpm ?? null)}</div>
      <div role="cell" data-col="key" className={`cell${mixesWith && a?.camelot ? ' key-match' : ''}`} title={a?.keyConfidence != null ? `confidence ${Math.round(a.keyConfidence * 100)}%` : undefined}>
        {a?.camelot && <span className={`camelot camelot-${a.camelot.slice(-1)}`}>{a.camelot}</span>}
        <span className="key-name">{a?.camelot ? (a.key ?? CAMELOT_NAMES[a.camelot] ?? '') : keyText(a)}</span>
      </div>
      <div role="cell" data-col="energy" className="cell num">{energyText(a?.energy)}</div>
      <div role="cell" data-col="loudness" className="cell num">{a?.loudness != null ? a.loudness.toFixed(1) : '—'}</div>
      <div role="cell" data-col="source" className="cell">
        <span className={`tag source-${t.sourceKind}`}>{SOURCE_LABELS[t.sourceKind]}</span>
      </div>
      <div role="cell" data-col="status" className={`cell status-cell status-${status.kind}`} title={status.text}>
        {status.kind === 'running' && status.percent !== null && (
          <span className="mini-bar" aria-hidden="true">
            <span style={{ width: `${status.percent}%` }} />
          </span>
        )}
        <span className="status-text">{status.text}</span>
      </div>
    </>
  );
});

/** Tracks after sort and filter, as the table shows them (shared with the toolbar's counts). */
export function useVisibleTracks(): { rows: readonly TrackListItem[]; statusOf: (t: TrackListItem) => PipelineStatus } {
  const tracks = useLibraryStore((s) => s.tracks);
  const jobs = useJobsStore((s) => s.jobs);
  const sort = useUiStore((s) => s.sort);
  const filter = useUiStore((s) => s.filter);
  const byTrack = useMemo(() => jobsByTrack(Object.values(jobs) as JobInfo[]), [jobs]);
  const statusOf = useMemo(() => (t: TrackListItem) => pipelineStatus(t, byTrack.get(t.id)), [byTrack]);
  // Sorting by status depends on the jobs; every other column only on the tracks.
  const sorted = useMemo(() => sortTracks(tracks, sort, sort.key === 'status' ? statusOf : undefined), [tracks, sort, sort.key === 'status' ? statusOf : null]); // eslint-disable-line react-hooks/exhaustive-deps
  const rows = useMemo(() => filterTracks(sorted, filter), [sorted, filter]);
  return { rows, statusOf };
}

/** The library as a virtualized, sortable, multi-select table. Tag text is rendered as text. */
export function LibraryTable({ rows, statusOf }: { rows: readonly TrackListItem[]; statusOf: (t: TrackListItem) => PipelineStatus }) {
  const actions = useActions();
  const sort = useUiStore((s) => s.sort);
  const selected = useUiStore((s) => s.selected);
  const mixesWith = useUiStore((s) => s.filter.mixesWith);

  const toggleSort = (key: SortKey) =>
    useUiStore.setState((s) => ({ sort: { key, dir: s.sort.key === key ? (s.sort.dir === 1 ? -1 : 1) : key === 'addedAt' ? -1 : 1 } }));

  const onRowClick = (e: MouseEvent, id: string) => {
    const { selected: current, anchor } = useUiStore.getState();
    const next = nextSelection(current, anchor, id, rows, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey });
    useUiStore.setState(next);
  };

  const header = (
    <div role="row" className="trow thead">
      {COLUMNS.map((c) => {
        const active = sort.key === c.key;
        return (
          <div role="columnheader" key={c.key} data-col={c.key} className={`cell${c.numeric ? ' num' : ''}`} aria-sort={active ? (sort.dir === 1 ? 'ascending' : 'descending') : 'none'}>
            <button type="button" className="sort" onClick={() => toggleSort(c.key)}>
              {c.label}
              <span className="sort-mark" aria-hidden="true">{active ? (sort.dir === 1 ? '▲' : '▼') : ''}</span>
            </button>
          </div>
        );
      })}
    </div>
  );

  return (
    <VirtualList
      className="library-table"
      role="table"
      ariaLabel="Library"
      ariaRowCount={rows.length + 1}
      items={rows}
      rowHeight={ROW_HEIGHT}
      header={header}
      getKey={(t) => t.id}
      rowProps={(t, i) => ({
        role: 'row',
        className: `trow${selected.has(t.id) ? ' selected' : ''}${i % 2 ? ' odd' : ''}`,
        'aria-selected': selected.has(t.id),
        'aria-rowindex': i + 2,
        'data-track-id': t.id,
        onClick: (e) => onRowClick(e, t.id),
        onDoubleClick: () => actions.openTrack(t.id),
      })}
      renderRow={(t) => <Row t={t} status={statusOf(t)} mixesWith={mixesWith} onOpen={actions.openTrack} />}
    />
  );
}
