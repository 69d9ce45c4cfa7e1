import { memo, useMemo, useState } from 'react';
import { SEPARATION_DEFAULTS } from '../../../shared/separation';
import { useActions } from '../../actions/context';
import { CAMELOT_KEYS, CAMELOT_NAMES, compatibleKeys } from '../../lib/camelot';
import { EMPTY_FILTER, isFiltering, narrows, type ListParams } from '../../lib/query';
import { loadedTracks, useLibraryStore, useSettingsStore, useSystemStore, useUiStore } from '../../stores';
import { AddFilesButton } from './AddFilesButton';
import { EmptyState } from './EmptyState';
import { FirstRunNote } from './FirstRunNote';
import { DjMenu, DjProgressBar } from '../dj/DjMenu';
import { ImportProgress } from './ImportProgress';
import { LibraryTable } from './LibraryTable';
import { LinkBox } from './LinkBox';

const num = (v: string): number | null => (v.trim() === '' || !Number.isFinite(Number(v)) ? null : Number(v));

// Filters and BulkBar are memoised: they take no props, so a search's reply (a new count and
// rows) does not render them again; they follow their own stores.
const Filters = memo(function Filters() {
  const filter = useUiStore((s) => s.filter);
  const setFilter = (patch: Partial<typeof filter>) => useUiStore.setState((s) => ({ filter: { ...s.filter, ...patch } }));
  return (
    <div className="filters" role="search">
      <input
        type="search"
        className="search"
        aria-label="Search the library"
        placeholder="Search title, artist, key…"
        value={filter.search}
        onChange={(e) => setFilter({ search: e.target.value })}
      />
      <label className="filter-field">
        <span>BPM</span>
        <input type="number" aria-label="Minimum BPM" placeholder="min" min={0} max={400} value={filter.bpmMin ?? ''} onChange={(e) => setFilter({ bpmMin: num(e.target.value) })} />
        <span className="muted">–</span>
        <input type="number" aria-label="Maximum BPM" placeholder="max" min={0} max={400} value={filter.bpmMax ?? ''} onChange={(e) => setFilter({ bpmMax: num(e.target.value) })} />
      </label>
      <label className="filter-field">
        <span>Key</span>
        <select aria-label="Key" value={filter.key ?? ''} onChange={(e) => setFilter({ key: e.target.value || null })}>
          <option value="">Any</option>
          {CAMELOT_KEYS.map((k) => (
            <option key={k} value={k}>
              {k} · {CAMELOT_NAMES[k]}
            </option>
          ))}
        </select>
      </label>
      {filter.mixesWith && (
        <span className="chip" data-testid="mixes-chip">
          Mixes with {filter.mixesWith} ({compatibleKeys(filter.mixesWith).join(', ')})
          <button type="button" aria-label="Clear the mixes-with filter" onClick={() => setFilter({ mixesWith: null })}>
            ×
          </button>
        </span>
      )}
      {isFiltering(filter) && (
        <button type="button" className="button ghost small-button" onClick={() => useUiStore.setState({ filter: EMPTY_FILTER })}>
          Clear filters
        </button>
      )}
    </div>
  );
});

const BulkBar = memo(function BulkBar() {
  const actions = useActions();
  const selected = useUiStore((s) => s.selected);
  const models = useSettingsStore((s) => s.models);
  const defaultModel = useSettingsStore((s) => s.settings?.defaultModel ?? SEPARATION_DEFAULTS.model);
  const [model, setModel] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  if (selected.size === 0) return null;
  const ids = [...selected];
  const single = ids.length === 1 ? loadedTracks(useLibraryStore.getState()).find((t) => t.id === ids[0]) : undefined;
  const camelot = single?.analysis?.camelot ?? null;
  const chosen = model ?? defaultModel;
  const modelNames = models?.length ? models.map((m) => m.name) : [defaultModel];
  return (
    <div className="bulk-bar" role="toolbar" aria-label="Selected tracks">
      <strong>{ids.length} selected</strong>
      <span className="bulk-group">
        <select aria-label="Separation model" value={chosen} onChange={(e) => setModel(e.target.value)}>
          {[...new Set([defaultModel, ...modelNames])].map((m) => {
            const info = models?.find((x) => x.name === m);
            return (
              <option key={m} value={m}>
                {m}
                {info && !info.installed ? ' (downloads on first use)' : ''}
              </option>
            );
          })}
        </select>
        <button type="button" className="button" onClick={() => void actions.runPipeline(ids, ['separate', 'analyze'], chosen)}>
          Separate
        </button>
      </span>
      <button type="button" className="button" onClick={() => void actions.runPipeline(ids, ['analyze'])}>
        Re-analyse
      </button>
      {single && camelot && (
        <button type="button" className="button" onClick={() => useUiStore.setState((s) => ({ filter: { ...s.filter, mixesWith: camelot } }))}>
          Mixes with this ({camelot})
        </button>
      )}
      <button type="button" className="button" onClick={() => void actions.exportAnalysis('csv', ids)}>
        Export CSV
      </button>
      <button type="button" className="button" onClick={() => void actions.exportAnalysis('json', ids)}>
        Export JSON
      </button>
      <DjMenu ids={ids} />
      <DjProgressBar />
      {confirming ? (
        <span className="bulk-group confirm">
          Remove {ids.length} from the library? Your audio files stay on disk.
          <button
            type="button"
            className="button danger"
            onClick={() => {
              setConfirming(false);
              void actions.removeTracks(ids);
            }}
          >
            Remove
          </button>
          <button type="button" className="button ghost" onClick={() => setConfirming(false)}>
            Keep
          </button>
        </span>
      ) : (
        <button type="button" className="button danger-outline" onClick={() => setConfirming(true)}>
          Remove…
        </button>
      )}
      <button type="button" className="button ghost" onClick={() => useUiStore.setState({ selected: new Set(), anchor: null })}>
        Clear selection
      </button>
    </div>
  );
});

/** How many tracks the rows shown answer: the one part of the header a search's reply changes. */
function LibraryCount() {
  const status = useLibraryStore((s) => s.status);
  const total = useLibraryStore((s) => s.total);
  const totalExact = useLibraryStore((s) => s.totalExact);
  const libraryTotal = useLibraryStore((s) => s.libraryTotal);
  // The count describes the rows shown: a search still loading does not say "100000 of 100000".
  const queryKey = useLibraryStore((s) => s.queryKey);
  const shown = useMemo(() => (queryKey ? (JSON.parse(queryKey) as ListParams) : null), [queryKey]);
  const filtering = !!shown && narrows(shown);
  return (
    // data-search: the search the rows shown answer (the ui benchmark waits for it); data-exact: whether their count is (an estimate until counted).
    <p className="muted small" data-testid="library-count" data-search={shown?.search ?? ''} data-exact={String(totalExact)}>
      {status === 'ready' ? (filtering ? `${totalExact ? total : `about ${Number(total.toPrecision(2))}`} of ${libraryTotal} tracks` : `${libraryTotal} ${libraryTotal === 1 ? 'track' : 'tracks'}`) : '\u00a0'}
    </p>
  );
}

export function LibraryView() {
  const actions = useActions();
  const status = useLibraryStore((s) => s.status);
  const error = useLibraryStore((s) => s.error);
  // Whether any track matches, not how many: a search's reply renders the count and the table, not the view.
  const none = useLibraryStore((s) => s.total === 0);
  const libraryTotal = useLibraryStore((s) => s.libraryTotal);
  const canPassPaths = useSystemStore((s) => s.info?.canPassPaths ?? false);

  return (
    <section className="view library-view" aria-labelledby="library-heading">
      <header className="view-header">
        <div>
          <h1 id="library-heading">Library</h1>
          <LibraryCount />
        </div>
        <div className="toolbar">
          <LinkBox />
          <AddFilesButton />
        </div>
      </header>
      <FirstRunNote />
      <ImportProgress />
      {status === 'ready' && libraryTotal > 0 && (
        <div className="library-controls">
          <Filters />
          <div className="export-all">
            <span className="muted small">Export all analysis</span>
            <button type="button" className="button ghost small-button" onClick={() => void actions.exportAnalysis('csv')}>
              CSV
            </button>
            <button type="button" className="button ghost small-button" onClick={() => void actions.exportAnalysis('json')}>
              JSON
            </button>
          </div>
        </div>
      )}
      <BulkBar />
      <div className="view-body library-body">
        {status === 'error' ? (
          <div className="panel error-panel" role="alert">
            <strong>The library could not be loaded.</strong>
            <p>{error}</p>
          </div>
        ) : status !== 'ready' ? (
          <p className="muted loading">Loading the library…</p>
        ) : libraryTotal === 0 ? (
          <EmptyState canPassPaths={canPassPaths} />
        ) : none ? (
          <div className="empty-state small-empty">
            <h2>No track matches</h2>
            <p>Change the search or the filters, or clear them.</p>
            <button type="button" className="button" onClick={() => useUiStore.setState({ filter: EMPTY_FILTER })}>
              Clear filters
            </button>
          </div>
        ) : (
          <LibraryTable />
        )}
      </div>
    </section>
  );
}
