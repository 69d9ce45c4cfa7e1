import { existsSync } from 'node:fs';
import type { Skipped } from '../../../shared/dj';
import type { Track } from '../../../shared/domain';
import type { AnalysisRepository } from '../analyses';
import type { TrackRepository } from '../tracks';
import type { KeyFields } from './keys';

export type { Skipped };

/** Where the beat grid starts: its first downbeat (or first beat), the tempo, the meter. */
export interface GridAnchor {
  /** Seconds from the start of the file. */
  start: number;
  bpm: number;
  beatsPerBar: number;
  /** 1 when `start` is a downbeat; 1 too when only beats are known (the bar is then a guess). */
  beatInBar: number;
}

/** What DJ software gets for one track. */
export interface DjEntry {
  track: Track;
  path: string;
  duration: number | null;
  bpm: number;
  key: KeyFields | null;
  energy: number | null;
  grid: GridAnchor | null;
  /** rekordbox TEMPO markers: the anchor, or one per tempo change when the tempo is not stable. */
  markers: GridAnchor[];
}

/** The analysis result's paths DJ exports read (DESIGN.md 4.3, with or without the beat grid). */
interface ResultPaths {
  duration?: number;
  tempo?: { bpm?: number; beats?: number[]; stable?: boolean };
  key?: Partial<KeyFields>;
  energy?: { level?: number };
  grid?: { beats?: number[]; downbeats?: number[]; meter?: number | string; first_downbeat?: number };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The grid anchor: `grid` when the analysis has one, else the first of `tempo.beats`. */
export function gridAnchor(r: ResultPaths, bpm: number): GridAnchor | null {
  const meter = typeof r.grid?.meter === 'string' ? Number.parseInt(r.grid.meter, 10) : r.grid?.meter;
  const beatsPerBar = finite(meter) && meter >= 2 && meter <= 16 ? meter : 4;
  const downbeat = r.grid?.downbeats?.find(finite) ?? (finite(r.grid?.first_downbeat) ? r.grid.first_downbeat : undefined);
  if (downbeat !== undefined) return { start: downbeat, bpm, beatsPerBar, beatInBar: 1 };
  const beat = (r.grid?.beats ?? r.tempo?.beats)?.find(finite);
  return beat === undefined ? null : { start: beat, bpm, beatsPerBar, beatInBar: 1 };
}

const TEMPO_CHANGE_BPM = 0.5;

/**
 * Where the grid's tempo changes: with `tempo.stable === false` and a grid of downbeats, a marker
 * at each bar whose tempo differs from the last marker's by more than TEMPO_CHANGE_BPM (what
 * rekordbox writes for a variable grid); otherwise the single anchor.
 */
export function gridMarkers(r: ResultPaths, anchor: GridAnchor | null): GridAnchor[] {
  if (!anchor) return [];
  const downbeats = (r.grid?.downbeats ?? []).filter(finite);
  if (r.tempo?.stable !== false || downbeats.length < 3) return [anchor];
  const markers: GridAnchor[] = [];
  for (let i = 0; i + 1 < downbeats.length; i++) {
    const bpm = Math.round(((60 * anchor.beatsPerBar) / (downbeats[i + 1]! - downbeats[i]!)) * 100) / 100;
    const last = markers.at(-1);
    if (!last || Math.abs(bpm - last.bpm) > TEMPO_CHANGE_BPM) markers.push({ start: downbeats[i]!, bpm, beatsPerBar: anchor.beatsPerBar, beatInBar: 1 });
  }
  return markers;
}

/** The tracks an export covers: the ones named (unknown ids reported), or every analysed track. */
export function selectTracks(tracks: TrackRepository, analysed: (id: string) => boolean, ids?: readonly string[]): { tracks: Track[]; skipped: Skipped[] } {
  if (!ids) return { tracks: tracks.list().filter((t) => analysed(t.id)).reverse(), skipped: [] };
  const skipped: Skipped[] = [];
  const out: Track[] = [];
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) continue;
    seen.add(id);
    const track = tracks.get(id);
    if (track) out.push(track);
    else skipped.push({ trackId: id, title: null, code: 'NOT_FOUND', reason: `No track with id ${id} in the library.` });
  }
  return { tracks: out, skipped };
}

/** Why a track cannot go to DJ software as it is, or null when it can (one stat, no JSON parsed). */
export function unfit(track: Track, analysed: boolean, needsAnalysis = true): Skipped | null {
  const skip = (code: string, reason: string): Skipped => ({ trackId: track.id, title: track.title, code, reason });
  if (!track.path) return skip('FILE_NOT_FOUND', `${track.title} has no audio file yet (its download has not finished).`);
  if (needsAnalysis && !analysed) return skip('NOT_FOUND', `${track.title} is not analysed yet: analyse it first.`);
  if (!existsSync(track.path)) return skip('FILE_NOT_FOUND', `${track.title}: the file ${track.path} is missing (moved or deleted).`);
  return null;
}

/** The entry of a track known to be fit (its full analysis read now, one track at a time). */
export function djEntry(track: Track, analyses: AnalysisRepository): DjEntry | null {
  const r = analyses.current(track.id)?.result as ResultPaths | undefined;
  const bpm = r?.tempo?.bpm;
  if (!r || !finite(bpm) || bpm <= 0) return null;
  const grid = gridAnchor(r, bpm);
  const key = r.key?.tonic && (r.key.mode === 'major' || r.key.mode === 'minor') ? (r.key as KeyFields) : null;
  return {
    track,
    path: track.path!,
    duration: finite(r.duration) ? r.duration : track.duration,
    bpm,
    key,
    energy: finite(r.energy?.level) ? r.energy.level : null,
    grid,
    markers: gridMarkers(r, grid),
  };
}
