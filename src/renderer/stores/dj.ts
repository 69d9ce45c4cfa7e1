import { create } from 'zustand';
import type { DjProgress, TagsView } from '../../shared/dj';

export interface DjState {
  /** The DJ-software task running now (tag write, export), with its progress when it has reported some. */
  busy: { label: string; progress: DjProgress | null } | null;
  /** A track's own file tags beside our analysis, by track id (the track view reads them). */
  fileTags: Record<string, TagsView>;
}

export const initialDjState: DjState = { busy: null, fileTags: {} };

export const useDjStore = create<DjState>()(() => ({ ...initialDjState }));
