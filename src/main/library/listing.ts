import { existsSync } from 'node:fs';
import type { TrackListItem } from '../../shared/domain';
import type { ListSortColumn } from '../../shared/listing';
import type { AnalysisRepository } from './analyses';
import type { ListFilter, LibraryListing } from './listing-query';
import type { StemRepository } from './stems';
import type { TrackRepository } from './tracks';

/** What the table sorts, filters and searches by, as `library.list` and `library.ids` take it. */
export interface ListParams {
  sort?: { column: ListSortColumn; dir: 'asc' | 'desc' };
  search?: string;
  bpmMin?: number | null;
  bpmMax?: number | null;
  keys?: string[] | null;
}

type Repos = { tracks: TrackRepository; analyses: AnalysisRepository; stems: StemRepository };

/**
 * `library.list`. Callers that name no window (the CLI's `sfa list`, older clients) get every
 * track; any param asks SQLite for one window (`LibraryListing`), so a library of 100,000
 * tracks costs only the rows shown.
 */
export function listLibrary(
  repos: Repos,
  listing: LibraryListing,
  params: ListParams & { offset?: number; limit?: number; quickCount?: boolean } = {},
): { tracks: TrackListItem[]; total: number; totalExact?: boolean; libraryTotal: number } {
  if (!Object.values(params).some((v) => v !== undefined)) {
    const tracks = listTracks(repos);
    return { tracks, total: tracks.length, libraryTotal: tracks.length };
  }
  const { tracks, total, totalExact, libraryTotal } = listing.list({ ...listFilter(params), offset: params.offset, limit: params.limit, quickCount: params.quickCount });
  return { tracks, total, totalExact, libraryTotal };
}

/** The contract's params as the listing's filter. */
export function listFilter(params: ListParams): ListFilter {
  return {
    sort: params.sort && { key: params.sort.column, dir: params.sort.dir === 'asc' ? 1 : -1 },
    search: params.search,
    bpmMin: params.bpmMin,
    bpmMax: params.bpmMax,
    camelot: params.keys,
  };
}

/**
 * The library table: every track with its analysis summary and stem count. A ready track whose
 * file was moved or deleted outside the app says `missing` (one stat per distinct path).
 */
export function listTracks(repos: Repos): TrackListItem[] {
  const summaries = repos.analyses.summaries();
  const stemSets = repos.stems.latestSetByTrack();
  const exists = new Map<string, boolean>();
  const onDisk = (path: string) => exists.get(path) ?? (exists.set(path, existsSync(path)), exists.get(path)!);
  return repos.tracks.list().map((t) => {
    const status = t.status === 'ready' && t.path && !onDisk(t.path) ? 'missing' : t.status;
    return { ...t, status, analysis: summaries.get(t.id) ?? null, stemCount: Object.keys(stemSets.get(t.id)?.stems ?? {}).length };
  });
}
