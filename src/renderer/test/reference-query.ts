import type { TrackListItem } from '../../shared/domain';
import type { ListSortColumn } from '../../shared/listing';
import { compatibleKeys, parseCamelot } from '../lib/camelot';

/**
 * Tests only. The library table's sort and filter as the renderer did them before the engine
 * took them over (kept verbatim as the reference): the engine's SQL must find the same tracks
 * for the same search (src/main/library/listing-search.test.ts), and the fake engine answers
 * `library.list` with it.
 */
export interface ReferenceFilter {
  search: string;
  bpmMin: number | null;
  bpmMax: number | null;
  key: string | null;
  mixesWith: string | null;
}

type Value = string | number | null;
const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

function camelotOrder(code: string | null | undefined): number | null {
  const c = parseCamelot(code);
  return c ? c.number * 2 - (c.letter === 'A' ? 1 : 0) : null;
}

function sortValue(t: TrackListItem, key: ListSortColumn): Value {
  switch (key) {
    case 'title': return t.title;
    case 'artist': return t.artist;
    case 'duration': return t.duration;
    case 'bpm': return t.analysis?.bpm ?? null;
    case 'key': return camelotOrder(t.analysis?.camelot);
    case 'energy': return t.analysis?.energy ?? null;
    case 'loudness': return t.analysis?.loudness ?? null;
    case 'source': return t.sourceKind;
    case 'status': return t.status;
    case 'addedAt': return t.addedAt;
  }
}

/** Sorted copy; nulls (unknown, not analysed) last whichever the direction; stable. */
export function referenceSort(tracks: readonly TrackListItem[], key: ListSortColumn, dir: 1 | -1): TrackListItem[] {
  const keyed = tracks.map((t, i) => ({ t, i, v: sortValue(t, key) }));
  keyed.sort((a, b) => {
    if (a.v === b.v) return a.i - b.i;
    if (a.v === null) return 1;
    if (b.v === null) return -1;
    const order = typeof a.v === 'number' && typeof b.v === 'number' ? a.v - b.v : collator.compare(String(a.v), String(b.v));
    return order * dir || a.i - b.i;
  });
  return keyed.map((k) => k.t);
}

function haystack(t: TrackListItem): string {
  return `${t.title}\n${t.artist ?? ''}\n${t.album ?? ''}\n${t.analysis?.camelot ?? ''}\n${t.analysis?.key ?? ''}`.toLowerCase();
}

/** Tracks matching every part of the filter; `mixesWith` is a Camelot code. */
export function referenceFilter(tracks: readonly TrackListItem[], f: Partial<ReferenceFilter>): TrackListItem[] {
  const words = (f.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
  const compatible = f.mixesWith ? new Set(compatibleKeys(f.mixesWith)) : null;
  return tracks.filter((t) => {
    const bpm = t.analysis?.bpm ?? null;
    if (f.bpmMin != null && (bpm === null || bpm < f.bpmMin)) return false;
    if (f.bpmMax != null && (bpm === null || bpm > f.bpmMax)) return false;
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

interface Params {
  offset?: number;
  limit?: number;
  sort?: { column: ListSortColumn; dir: 'asc' | 'desc' };
  search?: string;
  bpmMin?: number | null;
  bpmMax?: number | null;
  keys?: string[] | null;
}

/** `library.list` and `library.ids` over an in-memory library, for the fake engine. */
export function referenceListing(tracks: readonly TrackListItem[], params?: unknown): { tracks: TrackListItem[]; total: number; libraryTotal: number } {
  const p = (params ?? {}) as Params;
  const matching = referenceFilter(tracks, { search: p.search, bpmMin: p.bpmMin, bpmMax: p.bpmMax }).filter((t) => {
    if (!p.keys) return true;
    const cam = parseCamelot(t.analysis?.camelot);
    return !!cam && p.keys.includes(`${cam.number}${cam.letter}`);
  });
  const sorted = p.sort ? referenceSort(matching, p.sort.column, p.sort.dir === 'asc' ? 1 : -1) : matching;
  const offset = p.offset ?? 0;
  return { tracks: sorted.slice(offset, p.limit === undefined ? undefined : offset + p.limit), total: matching.length, libraryTotal: tracks.length };
}
