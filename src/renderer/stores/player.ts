import { create } from 'zustand';
import type { Peaks, TrackDetail } from '../../shared/domain';
import type { StemControl } from '../lib/mix';

export interface PlayerState {
  trackId: string | null;
  detail: TrackDetail | null;
  detailStatus: 'idle' | 'loading' | 'ready' | 'error';
  detailError: string | null;
  /** Lane names in order ('mix' when there are no stems). */
  lanes: string[];
  peaks: Record<string, Peaks | 'loading' | { error: string }>;
  controls: Record<string, StemControl>;
  selectedLane: string | null;
  audio: 'idle' | 'loading' | 'ready' | 'error';
  audioError: string | null;
  playing: boolean;
  position: number;
  duration: number;
  zoom: number;
}

export const initialPlayerState: PlayerState = {
  trackId: null,
  detail: null,
  detailStatus: 'idle',
  detailError: null,
  lanes: [],
  peaks: {},
  controls: {},
  selectedLane: null,
  audio: 'idle',
  audioError: null,
  playing: false,
  position: 0,
  duration: 0,
  zoom: 1,
};

export const usePlayerStore = create<PlayerState>()(() => ({ ...initialPlayerState }));
