import { create } from 'zustand';

export interface Notice {
  id: number;
  kind: 'error' | 'success' | 'info';
  title: string;
  /** One line per item (e.g. each rejected input with its message). */
  details?: string[];
}

export interface NoticesState {
  notices: Notice[];
}

export const useNoticesStore = create<NoticesState>()(() => ({ notices: [] }));
