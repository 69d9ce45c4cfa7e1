import { memo, useCallback, useMemo, type MouseEvent } from 'react';
import type { JobInfo, TrackListItem } from '../../../shared/domain';
import { useActions } from '../../actions/context';
import { VirtualList } from '../../components/VirtualList';
import { CAMELOT_NAMES } from '../../lib/camelot';
import { jobsByTrack, pipelineStatus, type PipelineStatus } from '../../lib/pipeline';
import type { ListParams, SortKey } from '../../lib/query';
import { rowAt, useJobsStore, useLibraryStore, useUiStore } from '../../stores';
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
      <div role="cell" data-col="key" className={`cell key-cell${mixesWith && a?.camelot ? ' key-match' : ''}`} title={a?.keyConfidence != null ? `confidence ${Math.round(a.keyConfidence * 100)}%` : undefined}>
        {a?.camelot && <span className={`camelot camelot-${a.camelot.slice(-1)}`}>{a.camelot}</span>}
        {a?.camelot ? (a.key ?? CAMELOT_NAMES[a.camelot] ?? '') : keyText(a)}
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
        {status.text}
      </div>
    </>
  );
});

const toggleSort = (key: SortKey) =>
  useUiStore.setState((s) => ({ sort: { key, dir: s.sort.key === key ? (s.sort.dir === 1 ? -1 : 1) : key === 'addedAt' ? -1 : 1 } }));

/** The column headers, marking the sort the rows shown answer (the engine's reply), not one still loading. */
function Header({ column, dir }: { column?: SortKey; dir?: 'asc' | 'desc' }) {
  return (
    <div role="row" className="trow thead">
      {COLUMNS.map((c) => {
        const active = column === c.key;
        const ascending = dir === 'asc';
        return (
          <div role="columnheader" key={c.key} data-col={c.key} className={`cell${c.numeric ? ' num' : ''}`} aria-sort={active ? (ascending ? 'ascending' : 'descending') : 'none'}>
            <button type="button" className="sort" onClick={() => toggleSort(c.key)}>
              {c.label}
              <span className="sort-mark" aria-hidden="true">{active ? (ascending ? '▲' : '▼') : ''}</span>
            </button>
          </div>
        );
      })}
    </div>
  );
}

/** Each track's pipeline status (its jobs' live progress over its stored status). */
function useStatusOf(): (t: TrackListItem) => PipelineStatus {
  const jobs = useJobsStore((s) => s.jobs);
  const byTrack = useMemo(() => jobsByTrack(Object.values(jobs) as JobInfo[]), [jobs]);
  return useMemo(() => (t: TrackListItem) => pipelineStatus(t, byTrack.get(t.id)), [byTrack]);
}

/**
 * The library as a virtualized, sortable, multi-select table. The engine sorts, filters and
 * pages; the table shows the pages loaded and asks for the rows it scrolls to. Tag text is
 * rendered as text.
 */
export function LibraryTable() {
  const actions = useActions();
  const statusOf = useStatusOf();
  const pages = useLibraryStore((s) => s.pages);
  const total = useLibraryStore((s) => s.total);
  const itemAt = useCallback((i: number) => rowAt({ pages }, i), [pages]);
  const onRange = useCallback((first: number, last: number) => actions.showRows(first, last), [actions]);
  const queryKey = useLibraryStore((s) => s.queryKey);
  const shownSort = useMemo(() => (queryKey ? (JSON.parse(queryKey) as ListParams).sort : undefined), [queryKey]);
  const selected = useUiStore((s) => s.selected);
  const mixesWith = useUiStore((s) => s.filter.mixesWith);

  // Stable while the selection, the key match and the jobs stay: scrolling renders only the rows it brings in.
  const rowProps = useCallback(
    (t: TrackListItem, i: number) => ({
      role: 'row',
      className: `trow${selected.has(t.id) ? ' selected' : ''}${i % 2 ? ' odd' : ''}`,
      'aria-selected': selected.has(t.id),
      'aria-rowindex': i + 2,
      'data-track-id': t.id,
      onClick: (e: MouseEvent) => actions.selectRow(t.id, i, { shift: e.shiftKey, toggle: e.ctrlKey || e.metaKey }),
      onDoubleClick: () => actions.openTrack(t.id),
    }),
    [selected, actions],
  );
  const renderRow = useCallback((t: TrackListItem) => <Row t={t} status={statusOf(t)} mixesWith={mixesWith} onOpen={actions.openTrack} />, [statusOf, mixesWith, actions]);
  // An element that stays the same while the sort shown does: a search's reply does not render the header again.
  const header = useMemo(() => <Header column={shownSort?.column} dir={shownSort?.dir} />, [shownSort?.column, shownSort?.dir]);

  return (
    <VirtualList
      className="library-table"
      role="table"
      ariaLabel="Library"
      ariaRowCount={total + 1}
      count={total}
      itemAt={itemAt}
      onRange={onRange}
      rowHeight={ROW_HEIGHT}
      header={header}
      rowProps={rowProps}
      renderRow={renderRow}
    />
  );
}
