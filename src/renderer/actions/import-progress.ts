import type { ImportProgress } from '../../shared/domain';
import { useLibraryStore } from '../stores';

/**
 * The engine's `library:import` progress shown on this window's own import activity (set while
 * its add request runs, cleared when it returns): how many files are in so far. An import started
 * elsewhere (another browser tab) does not open a bar here.
 */
export function applyImportProgress(p: ImportProgress): void {
  const current = useLibraryStore.getState().importing;
  if (!current || current.unit !== 'items' || p.done) return;
  const parts = [`${p.imported} added`, ...(p.skipped ? [`${p.skipped} already in the library`] : []), ...(p.failed ? [`${p.failed} failed`] : [])];
  useLibraryStore.setState({ importing: { ...current, label: `Importing: ${parts.join(', ')}`, done: p.seen } });
}
