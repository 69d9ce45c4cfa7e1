import type { TrackListItem } from '../../shared/domain';
import { compatibleKeys, parseCamelot } from './camelot';
import type { PipelineStatus } from './pipeline';

export type SortKey = 'title' | 'artist' | 'duration' | 'bpm' | 'key' | 'energy' | 'loudness' | 'source' | 'status' | 'addedAt';
export interface SortSpec {
  key: SortKey;
  dir: 1 | -1;
}

export interface LibraryFilter {
  search: string;
  bpmMin: number | null;
  bpmMax: number | null;
  /** A Camelot code, e.g. "8A". */
  key: string | null;
  /** Show only tracks that mix with this track's key. */
  mixesWith: string | null;
}

export const EMPTY_FILTER: LibraryFilter = { search: '', bpmMin: null, bpmMax: null, key: null, mixesWith: null };

type Value = string | number | null;
const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

/** Camelot as a sortable number: 1A=1, 1B=2, ... 12B=24. */
function camelotOrder(code: string | null | undefined): number | null {
  const c = parseCamelot(code);
  return c ? c.number * 2 - (c.letter === 'A' ? 1 : 0) : null;
}

export function sortValue(t: TrackListItem, key: SortKey, status?: (t: TrackListItem) => PipelineStatus): Value {
  switch (key) {
    case 'title': return t.title;
    case 'artist': return t.artist;
    case 'duration': return t.duration;
    case 'bpm': return t.analysis?.bpm ?? null;
    case 'key': return camelotOrder(t.analysis?.camelot);
    case 'energy': return t.analysis?.energy ?? null;
    case 'loudness': return t.analysis?.loudness ?? null;
    case 'source': return t.sourceKind;
    case 'status': return status ? status(t).text : t.status;
    case 'addedAt': return t.addedAt;
  }
}

/** Sorted copy; nulls (unknown, not analysed) last whichever the direction; stable. */
export function sortTracks(tracks: readonly TrackListItem[], spec: SortSpec, status?: (t: TrackListItem) => PipelineStatus): TrackListItem[] {
  const keyed = tracks.map((t, i) => ({ t, i, v: sortValue(t, spec.key, status) }));
  keyed.sort((a, b) => {
    if (a.v === b.v) return a.i - b.i;
    if (a.v === null) return 1;
    if (b.v === null) return -1;
    const order = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
    return order * spec.dir || a.i - b.i;
  });
  return keyed.map((k) => k.t);
}

const haystacks = new WeakMap<TrackListItem, string>();
function haystack(t: TrackListItem): string {
  let h = haystacks.get(t);
  if (h === undefined) {
    h = `${t.title}\n${t.artist ?? ''}\n${t.album ?? ''}\n${t.analysis?.camelot ?? ''}\n${t.analysis?.key ?? ''}`.toLowerCase();
    haystacks.set(t, h);
  }
  return h;
}

export function isFiltering(f: LibraryFilter): boolean {
  return !!f.search.trim() || f.bpmMin !== null || f.bpmMax !== null || !!f.key || !!f.mixesWith;
}

/** Tracks matching every part of the filter; `mixesWith` is a Camelot code. */
export function filterTracks(tracks: readonly TrackListItem[], f: LibraryFilter): readonly TrackListItem[] {
  if (!isFiltering(f)) return tracks;
  const words = f.search.toLowerCase().split(/\s+/).filter(Boolean);
  const compatible = f.mixesWith ? new Set(compatibleKeys(f.mixesWith)) : null;
  return tracks.filter((t) => {
    const bpm = t.analysis?.bpm ?? null;
    if (f.bpmMin !== null && (bpm === null || bpm < f.bpmMin)) return false;
    if (f.bpmMax !== null && (bpm === null || bpm > f.bpmMax)) return false;
    const cam = parseCamelot(t.analysis?.camelot);
    const code = cam ? `${cam.number}${cam.letter}` : null;
    if (f.key && code !== f.key) return false;
    if (compatible && (!code || !compatible.has(code))) return false;
    if (words.length) {
      const h = haystack(t);
      for (const w of words) if (!h.includes(w)) return false;
    }
    return true;
  });
}

/**
 * The selection after a click on `id`: plain click selects it alone, ctrl/cmd toggles it,
 * shift extends from the anchor over the rows as shown.
 */
export function nextSelection(
  current: ReadonlySet<string>,
  anchor: string | null,
  id: string,
  order: readonly { id: string }[],
  mods: { shift: boolean; toggle: boolean },
): { selected: Set<string>; anchor: string } {
  if (mods.shift && anchor) {
    const a = order.findIndex((t) => t.id === anchor);
    const b = order.findIndex((t) => t.id === id);
    if (a >= 0 && b >= 0) {
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const selected = mods.toggle ? new Set(current) : new Set<string>();
      for (let i = lo; i <= hi; i++) selected.add(order[i]!.id);
      return { selected, anchor };
    }
  }
  if (mods.toggle) {
    const selected = new Set(current);
    if (selected.has(id)) selected.delete(id);
    else selected.add(id);
    return { selected, anchor: id };
  }
  return { selected: new Set([id]), anchor: id };
}
