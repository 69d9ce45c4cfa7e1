import { existsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { AnalysisSummary, Track, TrackListItem } from '../../shared/domain';
import { PENDING_STATES, RUNNING_STATE } from '../../shared/job-states';
import { LIST_DEFAULT_LIMIT, LIST_MAX_IDS, LIST_MAX_LIMIT, STATUS_KINDS, type ListSortColumn, type StatusKind } from '../../shared/listing';
import type { SummaryFields } from './analyses';
import type { StemRepository } from './stems';
import type { TrackRepository } from './tracks';

/**
 * One window of the library, paged, sorted, filtered and searched in SQLite (the indexes and
 * `track_summary` of migration 008, the trigram index of migration 010), so that a library of
 * 100,000 tracks costs the renderer only the rows it shows. The per-track fields match
 * `library.list`'s full listing: the latest analysis result's summary, the stem count of the
 * latest stem set, and `missing` for a ready track whose file is gone (one stat per row shown).
 */
export type ListSortKey = ListSortColumn;

export interface ListFilter {
  sort?: { key: ListSortKey; dir: 1 | -1 };
  /** Words; each must occur, case aside, in the title, artist, album, Camelot code or key name. */
  search?: string;
  bpmMin?: number | null;
  bpmMax?: number | null;
  /** Camelot codes the track's key must be one of (the key filter, or the keys that mix with one). */
  camelot?: string[] | null;
}

export interface ListQuery extends ListFilter {
  offset?: number;
  limit?: number;
}

export interface ListPage {
  tracks: TrackListItem[];
  /** Tracks matching the filter, all pages together. */
  total: number;
  /** Tracks in the library. */
  libraryTotal: number;
  offset: number;
}

const SUMMARY = 'LEFT JOIN track_summary a ON a.track_id = t.id';

/**
 * The status column's kind per track, from its jobs as they are now (running, queued, the newest
 * run of each step failed or cancelled), its stored status and whether it has an analysis: the
 * SQL form of renderer/lib/pipeline.ts's `pipelineStatus` (a test holds the two together). A file
 * gone from disk (`missing`) is found by a stat per row shown, not here: such a track sorts by
 * its stored status.
 */
const sqlList = (values: readonly string[]) => values.map((v) => `'${v}'`).join(', ');
const JOBS_BY_TRACK = `LEFT JOIN (
    SELECT track_id, max(state = '${RUNNING_STATE}') AS running, max(state IN (${sqlList(PENDING_STATES)})) AS queued,
      max(newest AND state = 'discarded') AS failed, max(newest AND state = 'cancelled') AS cancelled
    FROM (SELECT track_id, state, id = max(id) OVER (PARTITION BY track_id, worker) AS newest FROM jobs WHERE track_id IS NOT NULL)
    GROUP BY track_id
  ) j ON j.track_id = t.id`;
const rank = (kind: StatusKind) => STATUS_KINDS.indexOf(kind);
const STATUS_RANK = `CASE WHEN j.running THEN ${rank('running')} WHEN j.queued THEN ${rank('queued')}
  WHEN j.failed OR t.status = 'failed' THEN ${rank('failed')} WHEN t.status = 'pending' THEN ${rank('pending')}
  WHEN j.cancelled AND a.track_id IS NULL THEN ${rank('cancelled')}
  WHEN j.track_id IS NOT NULL OR a.track_id IS NOT NULL THEN ${rank('done')} ELSE ${rank('ready')} END`;

/**
 * How each column sorts. Ties break on the row id of the table whose index the sort walks, so
 * that ORDER BY ... LIMIT/OFFSET reads the index in order instead of sorting the library on
 * every page. `nullable` columns put unknown values (not analysed) last in both directions.
 */
interface SortPlan {
  column: string;
  /** The tie-breaking row id (of the table the index belongs to). */
  tie: string;
  nullable: boolean;
  /** Joins the sort needs even when no filter does. */
  joins?: string;
}
const SORTS: Record<ListSortKey, SortPlan> = {
  title: { column: 't.title COLLATE NOCASE', tie: 't.rowid', nullable: false },
  artist: { column: 't.artist COLLATE NOCASE', tie: 't.rowid', nullable: true },
  duration: { column: 't.duration', tie: 't.rowid', nullable: true },
  bpm: { column: 'a.tempo', tie: 'a.rowid', nullable: true },
  key: { column: 'a.camelot_order', tie: 'a.rowid', nullable: true },
  energy: { column: 'a.energy', tie: 'a.rowid', nullable: true },
  loudness: { column: 'a.loudness', tie: 'a.rowid', nullable: true },
  source: { column: 't.source_kind', tie: 't.rowid', nullable: false },
  status: { column: STATUS_RANK, tie: 't.rowid', nullable: false, joins: `${SUMMARY} ${JOBS_BY_TRACK}` },
  addedAt: { column: 't.added_at', tie: 't.rowid', nullable: false },
};

/** Library order (newest first), for the rows whose sort value is unknown. */
const LIBRARY_ORDER = 't.added_at DESC, t.rowid DESC';

/** The SQL for a trigram phrase: the word as one quoted string (quotes doubled). */
const phrase = (word: string) => `"${word.replace(/"/g, '""')}"`;
const likeEscape = (word: string) => `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
/** Words shorter than a trigram cannot use the index: they scan the same text. */
const TRIGRAM = 3;
// eslint-disable-next-line no-control-regex
const isAscii = (word: string) => /^[\x00-\x7f]*$/.test(word);

interface Where {
  clauses: string[];
  params: unknown[];
}

interface Row extends SummaryFields {
  id: string;
  source: 'mix' | 'stems';
}

export class LibraryListing {
  private readonly summaryRows;
  private readonly titleRow;
  /** Whether anything changed since the counts below: another connection's commit, or this one's writes. */
  private readonly stamp;
  private readonly counts = new Map<string, number>();
  private countsAt = '';

  constructor(
    private readonly db: Database,
    private readonly tracks: TrackRepository,
    private readonly stems: StemRepository,
  ) {
    this.summaryRows = db.prepare(
      'SELECT track_id AS id, source, tempo, key, camelot, key_confidence, energy, loudness FROM track_summary WHERE track_id IN (SELECT value FROM json_each(?))',
    );
    this.titleRow = db.prepare('SELECT title FROM tracks WHERE id = ?');
    this.stamp = db.prepare('SELECT data_version AS version, total_changes() AS changes FROM pragma_data_version');
    // Case folding as the renderer's search did it (String#toLowerCase), where neither the
    // trigram index nor SQLite's ASCII-only LIKE folds the same way (non-ASCII text).
    db.function('sfa_contains_folded', { deterministic: true, varargs: true }, (text: unknown, ...words: unknown[]) => {
      const folded = String(text).toLowerCase();
      return words.every((w) => folded.includes(String(w))) ? 1 : 0;
    });
  }

  list(query: ListQuery = {}): ListPage {
    const limit = Math.min(LIST_MAX_LIMIT, Math.max(1, query.limit ?? LIST_DEFAULT_LIMIT));
    const offset = Math.max(0, query.offset ?? 0);
    const where = this.where(query);
    const total = this.count(where);
    const libraryTotal = where.clauses.length ? this.count({ clauses: [], params: [] }) : total;
    const ids = this.window(query, where, offset, limit);
    return { tracks: this.items(ids), total, libraryTotal, offset };
  }

  /** Ids of the rows offset..offset+limit-1 as `list` orders them (a shift-click range). */
  ids(query: ListFilter, offset: number, limit: number): string[] {
    return this.window(query, this.where(query), Math.max(0, offset), Math.min(LIST_MAX_IDS, Math.max(1, limit)));
  }

  /** Titles of the tracks that exist among `ids`. */
  titles(ids: readonly string[]): Record<string, string> {
    const titles: Record<string, string> = {};
    for (const id of ids) {
      const row = this.titleRow.get(id) as { title: string } | undefined;
      if (row) titles[id] = row.title;
    }
    return titles;
  }

  private where(query: ListFilter): Where {
    const clauses: string[] = [];
    const params: unknown[] = [];
    // Each word anywhere in the track's text, as the renderer's search matched it: lower-cased
    // JavaScript words against library_search (title, artist, album, Camelot code, key name).
    // ASCII words of 3+ characters use the trigram index; texts with other characters are then
    // checked with JavaScript's own case folding (the index folds "İ" or "K" otherwise), as are
    // non-ASCII words; shorter words scan the texts with LIKE (ASCII case folding) or that check.
    const words = (query.search ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    const ascii = words.filter(isAscii);
    const long = ascii.filter((w) => w.length >= TRIGRAM);
    if (long.length) {
      clauses.push(`t.rowid IN (SELECT rowid FROM library_search WHERE library_search MATCH ?
        AND (octet_length(text) = length(text) OR sfa_contains_folded(text, ${long.map(() => '?').join(', ')})))`);
      params.push(long.map(phrase).join(' AND '), ...long);
    }
    for (const word of ascii.filter((w) => w.length < TRIGRAM)) {
      clauses.push(`t.rowid IN (SELECT rowid FROM library_search WHERE text LIKE ? ESCAPE '\\'
        OR (octet_length(text) <> length(text) AND sfa_contains_folded(text, ?)))`);
      params.push(likeEscape(word), word);
    }
    const other = words.filter((w) => !isAscii(w));
    if (other.length) {
      clauses.push(`t.rowid IN (SELECT rowid FROM library_search WHERE sfa_contains_folded(text, ${other.map(() => '?').join(', ')}))`);
      params.push(...other);
    }
    if (query.bpmMin != null) {
      clauses.push('a.tempo >= ?');
      params.push(query.bpmMin);
    }
    if (query.bpmMax != null) {
      clauses.push('a.tempo <= ?');
      params.push(query.bpmMax);
    }
    if (query.camelot) {
      clauses.push(query.camelot.length ? `a.camelot IN (${query.camelot.map(() => '?').join(', ')})` : '0');
      params.push(...query.camelot);
    }
    return { clauses, params };
  }

  private count(where: Where): number {
    const join = where.clauses.some((w) => w.includes('a.')) ? SUMMARY : '';
    return this.counted(`SELECT count(*) AS n FROM tracks t ${join} ${whereSql(where.clauses)}`, where.params);
  }

  /**
   * A count, remembered until the database changes: scrolling a search asks for page after page
   * of the same query, and counting a search costs a pass over its matches.
   */
  private counted(sql: string, params: unknown[]): number {
    const stamp = this.stamp.get() as { version: number; changes: number };
    const now = `${stamp.version}:${stamp.changes}`;
    if (now !== this.countsAt) {
      this.counts.clear();
      this.countsAt = now;
    }
    const key = `${sql}\u0000${JSON.stringify(params)}`;
    let n = this.counts.get(key);
    if (n === undefined) {
      n = (this.db.prepare(sql).get(...params) as { n: number }).n;
      if (this.counts.size >= 64) this.counts.clear();
      this.counts.set(key, n);
    }
    return n;
  }

  /** The ids of one window in the sort's order. */
  private window(query: ListFilter, where: Where, offset: number, limit: number): string[] {
    const sort = query.sort ?? { key: 'addedAt', dir: -1 };
    const plan = SORTS[sort.key];
    const dir = sort.dir === 1 ? 'ASC' : 'DESC';
    const order = `${plan.column} ${dir}, ${plan.tie} ${dir}`;
    if (!plan.nullable) return this.select(plan.joins ?? SUMMARY, where.clauses, where.params, order, limit, offset);
    // Unknown values last whichever the direction, in two parts, so that each can walk an index
    // (NULLS LAST on one query cannot): the known values by the column, then the rest. A summary
    // column's known part starts from track_summary (its index), joined to the track.
    const onSummary = plan.tie === 'a.rowid';
    const from = onSummary ? 'JOIN track_summary a ON a.track_id = t.id' : SUMMARY;
    const known = [...where.clauses, `${plan.column} IS NOT NULL`];
    const knownCount = this.counted(`SELECT count(*) AS n FROM tracks t ${from} ${whereSql(known)}`, where.params);
    const ids = offset < knownCount ? this.select(from, known, where.params, order, limit, offset) : [];
    if (ids.length < limit) {
      const unknown = [...where.clauses, `${plan.column} IS NULL`];
      ids.push(...this.select(SUMMARY, unknown, where.params, LIBRARY_ORDER, limit - ids.length, Math.max(0, offset - knownCount)));
    }
    return ids;
  }

  private select(from: string, clauses: string[], params: unknown[], order: string, limit: number, offset: number): string[] {
    const sql = `SELECT t.id FROM tracks t ${from} ${whereSql(clauses)} ORDER BY ${order} LIMIT ? OFFSET ?`;
    return this.db
      .prepare(sql)
      .pluck()
      .all(...params, limit, offset) as string[];
  }

  /** The rows of one window, in its order: three queries whatever its size; one stat per row for `missing`. */
  private items(ids: readonly string[]): TrackListItem[] {
    if (!ids.length) return [];
    const json = JSON.stringify(ids);
    const tracks = new Map(this.tracks.getMany(ids).map((t) => [t.id, t]));
    const summaries = new Map((this.summaryRows.all(json) as Row[]).map((r) => [r.id, r]));
    const stemSets = this.stems.latestSetsFor(ids);
    return ids.flatMap((id) => {
      const track = tracks.get(id);
      if (!track) return [];
      const r = summaries.get(id);
      const analysis: AnalysisSummary | null = r
        ? { source: r.source ?? 'mix', bpm: r.tempo, key: r.key, camelot: r.camelot, keyConfidence: r.key_confidence, energy: r.energy, loudness: r.loudness }
        : null;
      return [{ ...track, status: statusOf(track), analysis, stemCount: Object.keys(stemSets.get(id)?.stems ?? {}).length }];
    });
  }
}

function whereSql(clauses: string[]): string {
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

function statusOf(t: Track): Track['status'] {
  return t.status === 'ready' && t.path && !existsSync(t.path) ? 'missing' : t.status;
}
