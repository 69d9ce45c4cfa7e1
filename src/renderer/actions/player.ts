import type { Client } from '../api';
import { stemGains, toggleSolo, type StemControl } from '../lib/mix';
import { usePlayerStore } from '../stores';
import { initialPlayerState } from '../stores/player';
import { errorText } from './notices';

const STEM_ORDER = ['vocals', 'drums', 'bass', 'other', 'guitar', 'piano', 'instrumental'];
export const MIX_LANE = 'mix';
const PEAK_POINTS = 4000;

export function orderLanes(stems: Record<string, string> | null): string[] {
  if (!stems || !Object.keys(stems).length) return [MIX_LANE];
  return Object.keys(stems).sort((a, b) => {
    const ia = STEM_ORDER.indexOf(a), ib = STEM_ORDER.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib) || a.localeCompare(b);
  });
}

export interface Player {
  open(trackId: string): Promise<void>;
  close(): void;
  toggle(): void;
  play(): void;
  pause(): void;
  seek(seconds: number): void;
  seekBy(delta: number): void;
  setVolume(lane: string, volume: number): void;
  toggleMute(lane: string): void;
  toggleSolo(lane: string): void;
  selectLane(lane: string): void;
  setZoom(zoom: number): void;
}

declare global {
  interface Window {
    /** Read-only test hook (only when sessionStorage 'sfa:debug' is '1'): the live GainNode values. */
    __sfaPlayer?: { gains(): Record<string, number>; playing(): boolean };
  }
}

/**
 * Sample-synchronised stem playback with Web Audio: each lane decoded to an AudioBuffer, one
 * GainNode per lane, every AudioBufferSourceNode started at the same `when`. Solo/mute/volume
 * become gains through `stemGains` (pure, unit-tested).
 */
export function createPlayer(client: Client): Player {
  let ctx: AudioContext | null = null;
  let buffers: Record<string, AudioBuffer> = {};
  let gains: Record<string, GainNode> = {};
  let sources: AudioBufferSourceNode[] = [];
  let startedAt = 0;
  let offset = 0;
  let raf = 0;
  let generation = 0;
  const set = usePlayerStore.setState;
  const get = usePlayerStore.getState;

  const position = () => (ctx && get().playing ? Math.min(get().duration, ctx.currentTime - startedAt) : offset);

  const applyGains = () => {
    const values = stemGains(get().controls);
    for (const [lane, node] of Object.entries(gains)) node.gain.value = values[lane] ?? 0;
  };

  const stopSources = () => {
    for (const s of sources) {
      s.onended = null;
      try {
        s.stop();
      } catch {
        // never started
      }
      s.disconnect();
    }
    sources = [];
    cancelAnimationFrame(raf);
  };

  const tick = () => {
    const p = position();
    set({ position: p });
    if (p >= get().duration && get().duration > 0) {
      stopSources();
      offset = 0;
      set({ playing: false, position: 0 });
      return;
    }
    raf = requestAnimationFrame(tick);
  };

  const startAt = (from: number) => {
    if (!ctx) return;
    stopSources();
    const when = ctx.currentTime + 0.05;
    for (const [lane, buffer] of Object.entries(buffers)) {
      const src = ctx.createBufferSource();
      src.buffer = buffer;
      src.connect(gains[lane]!);
      src.start(when, Math.min(from, buffer.duration));
      sources.push(src);
    }
    startedAt = when - from;
    set({ playing: true });
    raf = requestAnimationFrame(tick);
  };

  const loadAudio = async (trackId: string, lanes: string[], gen: number) => {
    set({ audio: 'loading', audioError: null });
    try {
      ctx ??= new AudioContext();
      const decoded = await Promise.all(
        lanes.map(async (lane) => {
          const res = await fetch(client.mediaUrl(trackId, lane === MIX_LANE ? 'source' : lane));
          if (!res.ok) throw new Error(`${lane}: HTTP ${res.status} ${await res.text()}`);
          return [lane, await ctx!.decodeAudioData(await res.arrayBuffer())] as const;
        }),
      );
      if (gen !== generation) return;
      buffers = Object.fromEntries(decoded);
      gains = {};
      for (const lane of lanes) {
        const node = ctx.createGain();
        node.connect(ctx.destination);
        gains[lane] = node;
      }
      applyGains();
      const duration = Math.max(...decoded.map(([, b]) => b.duration));
      set({ audio: 'ready', duration });
    } catch (error) {
      if (gen === generation) set({ audio: 'error', audioError: errorText(error) });
    }
  };

  const loadPeaks = (trackId: string, lanes: string[], gen: number) => {
    for (const lane of lanes) {
      set((s) => ({ peaks: { ...s.peaks, [lane]: 'loading' } }));
      client
        .request('media.peaks', { trackId, points: PEAK_POINTS, ...(lane === MIX_LANE ? {} : { stem: lane }) })
        .then((p) => gen === generation && set((s) => ({ peaks: { ...s.peaks, [lane]: p }, duration: s.duration || p.duration })))
        .catch((error: unknown) => gen === generation && set((s) => ({ peaks: { ...s.peaks, [lane]: { error: errorText(error) } } })));
    }
  };

  const reset = () => {
    generation += 1;
    stopSources();
    for (const g of Object.values(gains)) g.disconnect();
    buffers = {};
    gains = {};
    offset = 0;
  };

  if (typeof sessionStorage !== 'undefined' && sessionStorage.getItem('sfa:debug') === '1') {
    window.__sfaPlayer = {
      gains: () => Object.fromEntries(Object.entries(gains).map(([k, g]) => [k, g.gain.value])),
      playing: () => get().playing,
    };
  }

  const updateControls = (fn: (c: Record<string, StemControl>) => Record<string, StemControl>) => {
    set((s) => ({ controls: fn(s.controls) }));
    applyGains();
  };

  return {
    async open(trackId) {
      reset();
      const gen = generation;
      set({ ...initialPlayerState, trackId, detailStatus: 'loading' });
      try {
        const detail = await client.request('library.get', { id: trackId });
        if (gen !== generation) return;
        const lanes = orderLanes(detail.stems);
        const controls = Object.fromEntries(lanes.map((l) => [l, { muted: false, solo: false, volume: 1 }]));
        set({ detail, detailStatus: 'ready', lanes, controls, selectedLane: lanes[0] ?? null, duration: detail.duration ?? 0 });
        if (!detail.path) return;
        loadPeaks(trackId, lanes, gen);
        void loadAudio(trackId, lanes, gen);
      } catch (error) {
        if (gen === generation) set({ detailStatus: 'error', detailError: errorText(error) });
      }
    },
    close() {
      reset();
      set({ ...initialPlayerState });
    },
    toggle() {
      if (get().playing) this.pause();
      else this.play();
    },
    play() {
      if (!ctx || get().audio !== 'ready') return;
      void ctx.resume();
      startAt(offset >= get().duration ? 0 : offset);
    },
    pause() {
      if (!get().playing) return;
      offset = position();
      stopSources();
      set({ playing: false, position: offset });
    },
    seek(seconds) {
      offset = Math.max(0, Math.min(get().duration, seconds));
      set({ position: offset });
      if (get().playing) startAt(offset);
    },
    seekBy(delta) {
      this.seek(position() + delta);
    },
    setVolume: (lane, volume) => updateControls((c) => (c[lane] ? { ...c, [lane]: { ...c[lane], volume } } : c)),
    toggleMute: (lane) => updateControls((c) => (c[lane] ? { ...c, [lane]: { ...c[lane], muted: !c[lane].muted } } : c)),
    toggleSolo: (lane) => updateControls((c) => (c[lane] ? toggleSolo(c, lane) : c)),
    selectLane: (lane) => set({ selectedLane: lane }),
    setZoom: (zoom) => set({ zoom: Math.max(1, Math.min(32, zoom)) }),
  };
}
