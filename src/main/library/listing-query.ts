import { existsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { AnalysisSummary, Track, TrackListItem } from '../../shared/domain';
import type { SummaryFields } from './analyses';
import type { TrackRepository } from './tracks';

/**
 * One window of the library, paged, sorted, filtered and searched in SQLite (indexes and the
 * FTS5 table of migration 008), so that a library of 100,000 tracks costs the renderer only the
 * rows it shows. The per-track fields match `library.list`'s full listing: the latest analysis
 * result's summary, the stem count of the latest stem set, and `missing` for a ready track whose
 * file is gone (one stat per row of the window).
 */
export type ListSortKey = 'title' | 'artist' | 'duration' | 'bpm' | 'key' | 'energy' | 'loudness' | 'source' | 'status' | 'addedAt';

export interface ListQuery {
  offset?: number;
  limit?: number;
  sort?: { key: ListSortKey; dir: 1 | -1 };
  /** Words; each must start a word of the title, artist or album (or be the track's Camelot code). */
  search?: string;
  bpmMin?: number | null;
  bpmMax?: number | null;
  /** Camelot codes the track's key must be one of (the key filter, or the keys that mix with one). */
  camelot?: string[] | null;
}

export interface ListPage {
  tracks: TrackListItem[];
  /** Tracks matching the filter, all pages together. */
  total: number;
  offset: number;
}

export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 1000;

// The latest analysis result's fields (migration 008 keeps them in track_summary).
const SUMMARY = 'LEFT JOIN track_summary a ON a.track_id = t.id';

/** Sort expressions; `nullable` ones put unknown values (not analysed) last in both directions. */
const SORT_SQL: Record<ListSortKey, { sql: string; nullable: boolean }> = {
  title: { sql: 't.title COLLATE NOCASE', nullable: false },
  artist: { sql: 't.artist COLLATE NOCASE', nullable: true },
  duration: { sql: 't.duration', nullable: true },
  bpm: { sql: 'a.tempo', nullable: true },
  key: { sql: 'a.camelot_order', nullable: true },
  energy: { sql: 'a.energy', nullable: true },
  loudness: { sql: 'a.loudness', nullable: true },
  source: { sql: 't.source_kind', nullable: false },
  status: { sql: 't.status', nullable: false },
  addedAt: { sql: 't.added_at', nullable: false },
};

const CAMELOT_WORD = /^(1[0-2]|[1-9])[ab]$/i;

/** An FTS5 query: each word a quoted prefix term (quotes doubled), all required. */
export function ftsQuery(search: string): string | null {
  const words = search.split(/\s+/).map((w) => w.trim()).filter(Boolean);
  if (!words.length) return null;
  return words.map((w) => `"${w.replace(/"/g, '""')}"*`).join(' AND ');
}

interface Row extends SummaryFields {
  id: string;
  source: 'mix' | 'stems' | null;
  analysed: number;
}

export class LibraryListing {
  private readonly stemRows;

  constructor(
    private readonly db: Database,
    private readonly tracks: TrackRepository,
  ) {
    this.stemRows = db.prepare('SELECT model, options_key, stem FROM stems WHERE track_id = ? ORDER BY created_at DESC, stem');
  }

  list(query: ListQuery = {}): ListPage {
    const where: string[] = [];
    const params: unknown[] = [];
    for (const word of (query.search ?? '').split(/\s+/).filter(Boolean)) {
      // A word matches the track's text (FTS5 prefix; SQLite starts from the FTS hits), or, when
      // it looks like one, a Camelot code ("8A", through its index).
      if (CAMELOT_WORD.test(word)) {
        where.push('(t.rowid IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?) OR a.camelot = ?)');
        params.push(ftsQuery(word), word.toUpperCase());
      } else {
        where.push('t.rowid IN (SELECT rowid FROM tracks_fts WHERE tracks_fts MATCH ?)');
        params.push(ftsQuery(word));
      }
    }
    if (query.bpmMin != null) {
      where.push('a.tempo >= ?');
      params.push(query.bpmMin);
    }
    if (query.bpmMax != null) {
      where.push('a.tempo <= ?');
      params.push(query.bpmMax);
    }
    if (query.camelot) {
      where.push(query.camelot.length ? `a.camelot IN (${query.camelot.map(() => '?').join(', ')})` : '0');
      params.push(...query.camelot);
    }
    const sort = query.sort ?? { key: 'addedAt', dir: -1 };
    const column = SORT_SQL[sort.key];
    const dir = sort.dir === 1 ? 'ASC' : 'DESC';
    const limit = Math.min(MAX_LIMIT, Math.max(1, query.limit ?? DEFAULT_LIMIT));
    const offset = Math.max(0, query.offset ?? 0);
    const total = this.count(where, params);
    if (!column.nullable) {
      const rows = this.select(where, params, `${column.sql} ${dir}`, limit, offset);
      return { tracks: rows.flatMap((r) => this.item(r)), total, offset };
    }
    // Unknown values last whichever the direction, in two parts, so that each can walk an index
    // (NULLS LAST on one query cannot): the known values by the column, then the rest.
    const known = [...where, `${column.sql} IS NOT NULL`];
    const knownCount = this.count(known, params);
    const rows = offset < knownCount ? this.select(known, params, `${column.sql} ${dir}`, limit, offset) : [];
    if (rows.length < limit) {
      const unknown = [...where, `${column.sql} IS NULL`];
      rows.push(...this.select(unknown, params, null, limit - rows.length, Math.max(0, offset - knownCount)));
    }
    return { tracks: rows.flatMap((r) => this.item(r)), total, offset };
  }

  private count(where: string[], params: unknown[]): number {
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const join = where.some((w) => w.includes('a.')) ? SUMMARY : '';
    return (this.db.prepare(`SELECT count(*) AS n FROM tracks t ${join} ${filter}`).get(...params) as { n: number }).n;
  }

  /** Rows in `order` (null: library order), ties in library order (newest first). */
  private select(where: string[], params: unknown[], order: string | null, limit: number, offset: number): Row[] {
    const filter = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const orderBy = `${order ? `${order}, ` : ''}t.added_at DESC, t.rowid DESC`;
    return this.db
      .prepare(
        `SELECT t.id, a.source, a.tempo, a.key, a.camelot, a.key_confidence, a.energy, a.loudness, a.track_id IS NOT NULL AS analysed
         FROM tracks t ${SUMMARY} ${filter} ORDER BY ${orderBy} LIMIT ? OFFSET ?`,
      )
      .all(...params, limit, offset) as Row[];
  }

  private item(r: Row): TrackListItem[] {
    const track = this.tracks.get(r.id);
    if (!track) return [];
    const analysis: AnalysisSummary | null = r.analysed
      ? { source: r.source ?? 'mix', bpm: r.tempo, key: r.key, camelot: r.camelot, keyConfidence: r.key_confidence, energy: r.energy, loudness: r.loudness }
      : null;
    return [{ ...track, status: statusOf(track), analysis, stemCount: this.stemCount(track.id) }];
  }

  /** Stems of the latest set (model + settings key) of one track. */
  private stemCount(trackId: string): number {
    const rows = this.stemRows.all(trackId) as { model: string; options_key: string }[];
    if (!rows.length) return 0;
    const latest = `${rows[0]!.model}/${rows[0]!.options_key}`;
    return rows.filter((s) => `${s.model}/${s.options_key}` === latest).length;
  }
}

function statusOf(t: Track): Track['status'] {
  return t.status === 'ready' && t.path && !existsSync(t.path) ? 'missing' : t.status;
}
