import { create } from 'zustand';
import type { TrackListItem } from '../../shared/domain';

/** What an import in progress shows: uploads (browser) then the engine's probing. */
export interface ImportActivity {
  label: string;
  /** Bytes sent (uploads) or items handled; `total` 0 when unknown. */
  unit: 'bytes' | 'items';
  done: number;
  total: number;
}

/**
 * Rows per page the table asks the engine for: a screenful and some, so the first rows and a
 * new search cost the engine (and the JSON between) little more than the rows shown.
 */
export const LIBRARY_PAGE = 50;

export interface LibraryState {
  /**
   * The table's rows loaded so far, by page (`LIBRARY_PAGE` rows from page * LIBRARY_PAGE), for
   * the sort and filter in `queryKey`: the engine pages, sorts, filters and searches.
   */
  pages: Readonly<Record<number, readonly TrackListItem[]>>;
  /** The engine params (sort and filter) the pages answer, as JSON. */
  queryKey: string;
  /** Tracks matching the sort and filter, all pages together. */
  total: number;
  /** False while `total` is the engine's estimate for a search (a count follows). */
  totalExact: boolean;
  /** Tracks in the library, unfiltered. */
  libraryTotal: number;
  /** The rows the table shows (indexes), so a reload fetches those again. */
  shown: { first: number; last: number };
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  importing: ImportActivity | null;
}

export const initialLibraryState: LibraryState = {
  pages: {},
  queryKey: '',
  total: 0,
  totalExact: true,
  libraryTotal: 0,
  shown: { first: 0, last: 0 },
  status: 'idle',
  error: null,
  importing: null,
};

/** The library as last loaded from the engine. State only: actions/library.ts changes it. */
export const useLibraryStore = create<LibraryState>()(() => ({ ...initialLibraryState }));

/** The row at `index` of the table, when its page is loaded. */
export function rowAt(state: Pick<LibraryState, 'pages'>, index: number): TrackListItem | undefined {
  return state.pages[Math.floor(index / LIBRARY_PAGE)]?.[index % LIBRARY_PAGE];
}

/** Every loaded row, in table order. */
export function loadedTracks(state: Pick<LibraryState, 'pages'>): TrackListItem[] {
  return Object.keys(state.pages)
    .map(Number)
    .sort((a, b) => a - b)
    .flatMap((page) => state.pages[page]!);
}
