import { create } from 'zustand';
import { EMPTY_FILTER, type LibraryFilter, type SelectionAnchor, type SortSpec } from '../lib/query';

export type View = 'library' | 'jobs' | 'track' | 'settings' | 'system';

export interface UiState {
  view: View;
  /** The track the track view shows. */
  trackId: string | null;
  filter: LibraryFilter;
  sort: SortSpec;
  selected: ReadonlySet<string>;
  /** Where a shift-click extends from (null after the sort or filter changed the rows' order). */
  anchor: SelectionAnchor | null;
}

export const initialUiState: UiState = { view: 'library', trackId: null, filter: EMPTY_FILTER, sort: { key: 'addedAt', dir: -1 }, selected: new Set(), anchor: null };

export const useUiStore = create<UiState>()(() => ({ ...initialUiState }));
