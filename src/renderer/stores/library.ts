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

export interface LibraryState {
  tracks: TrackListItem[];
  status: 'idle' | 'loading' | 'ready' | 'error';
  error: string | null;
  importing: ImportActivity | null;
}

export const initialLibraryState: LibraryState = { tracks: [], status: 'idle', error: null, importing: null };

/** The library as last loaded from the engine. State only: actions/library.ts changes it. */
export const useLibraryStore = create<LibraryState>()(() => ({ ...initialLibraryState }));
