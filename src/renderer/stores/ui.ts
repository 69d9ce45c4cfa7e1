import { create } from 'zustand';

export type View = 'library' | 'system';

export interface UiState {
  view: View;
}

export const useUiStore = create<UiState>()(() => ({ view: 'library' }));
