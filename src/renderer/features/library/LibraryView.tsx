import { useLibraryStore, useSystemStore } from '../../stores';
import { AddFilesButton } from './AddFilesButton';
import { EmptyState } from './EmptyState';
import { ImportProgress } from './ImportProgress';
import { LibraryTable } from './LibraryTable';
import { LinkBox } from './LinkBox';

export function LibraryView() {
  const { tracks, status, error } = useLibraryStore();
  const canPassPaths = useSystemStore((s) => s.info?.canPassPaths ?? false);

  return (
    <section className="view library-view" aria-labelledby="library-heading">
      <header className="view-header">
        <div>
          <h1 id="library-heading">Library</h1>
          <p className="muted small">{status === 'ready' ? `${tracks.length} ${tracks.length === 1 ? 'track' : 'tracks'}` : '\u00a0'}</p>
        </div>
        <div className="toolbar">
          <LinkBox />
          <AddFilesButton />
        </div>
      </header>
      <ImportProgress />
      <div className="view-body">
        {status === 'error' ? (
          <div className="panel error-panel" role="alert">
            <strong>The library could not be loaded.</strong>
            <p>{error}</p>
          </div>
        ) : status !== 'ready' ? (
          <p className="muted loading">Loading the library…</p>
        ) : tracks.length === 0 ? (
          <EmptyState canPassPaths={canPassPaths} />
        ) : (
          <LibraryTable tracks={tracks} />
        )}
      </div>
    </section>
  );
}
