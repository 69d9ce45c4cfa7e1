import { existsSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import type { AnalysisSummary, Track, TrackListItem } from '../../shared/domain';
import { LIST_DEFAULT_LIMIT, LIST_MAX_IDS, LIST_MAX_LIMIT, type ListSortColumn } from '../../shared/listing';
import type { SummaryFields } from './analyses';
import type { StemRepository } from './stems';
import type { TrackRepository } from './tracks';

/**
 * One window of the library, paged, sorted, filtered and searched in SQLite (the indexes and
 * `track_summary` of migration 008, the trigram index of migration 010), so that a library of
 * 100,000 tracks costs the renderer only the rows it shows, and a search keystroke the rows it
 * finds first (see `where`; with `quickCount` a common word's total is estimated, not counted). The per-track fields match
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
  /** Estimate `total` where counting would cost more than the window (`totalExact` says which). */
  quickCount?: boolean;
}

export interface ListPage {
  tracks: TrackListItem[];
  /** Tracks matching the filter, all pages together. */
  total: number;
  /** False when `total` is an estimate (`quickCount`); `countMatches` gives the exact number. */
  totalExact: boolean;
  /** Tracks in the library. */
  libraryTotal: number;
  offset: number;
}

const SUMMARY = 'LEFT JOIN track_summary a ON a.track_id = t.id';

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
  /** The table of the sort's index, where it is not `tracks` (see `OwnTable`). */
  own?: OwnTable;
}

/**
 * The table a sort's index belongs to, where it is not `tracks`: a window whose filter reads no
 * other table is taken from that table alone, then joined to its tracks, so that OFFSET skips
 * index entries (a deep page of 100,000 tracks: ~20 ms) instead of joined rows (SQLite joins
 * every row it skips: ~1 s).
 */
interface OwnTable {
  alias: string;
  from: string;
  /** The column that names the track, and how the window's rows join `tracks t` by it (`w.track_key`). */
  trackKey: string;
  joinOn: string;
}
const SUMMARY_TABLE: OwnTable = { alias: 'a', from: 'track_summary a', trackKey: 'a.track_id', joinOn: 't.id = w.track_key' };
/** Migration 011's stored rank of each track's status kind (STATUS_KINDS order), kept by triggers. */
const STATUS_TABLE: OwnTable = { alias: 's', from: 'track_status s', trackKey: 's.track_rowid', joinOn: 't.rowid = w.track_key' };

const SORTS: Record<ListSortKey, SortPlan> = {
  title: { column: 't.title COLLATE NOCASE', tie: 't.rowid', nullable: false },
  artist: { column: 't.artist COLLATE NOCASE', tie: 't.rowid', nullable: true },
  duration: { column: 't.duration', tie: 't.rowid', nullable: true },
  bpm: { column: 'a.tempo', tie: 'a.rowid', nullable: true, own: SUMMARY_TABLE },
  key: { column: 'a.camelot_order', tie: 'a.rowid', nullable: true, own: SUMMARY_TABLE },
  energy: { column: 'a.energy', tie: 'a.rowid', nullable: true, own: SUMMARY_TABLE },
  loudness: { column: 'a.loudness', tie: 'a.rowid', nullable: true, own: SUMMARY_TABLE },
  source: { column: 't.source_kind', tie: 't.rowid', nullable: false },
  status: { column: 's.rank', tie: 's.track_rowid', nullable: false, joins: `JOIN track_status s ON s.track_rowid = t.rowid ${SUMMARY}`, own: STATUS_TABLE },
  addedAt: { column: 't.added_at', tie: 't.rowid', nullable: false },
};

/**
 * Index matches up to which a search reads them from the trigram index and sorts them: 2,000
 * take a few milliseconds; above that, walking the sort's index and testing each text fills a
 * window sooner (measured at 100,000 tracks: a word in 19% of them, 200 rows in ~4 ms scanning
 * against ~200 ms through the index).
 */
const RARE_MATCHES = 2000;
/**
 * A word in more than this share of the library scans even when the index finds few enough
 * (`RARE_MATCHES`): a window of 50 is full after ~1,000 rows, where the index hands over every match
 * to be sorted first (at 10,000 tracks, a word in 19% of them: ~10 ms through the index, ~4 scanning).
 */
const DENSE_SHARE = 0.05;
/** Tracks whose texts are tested to estimate a scanned search's matches (about 2 ms; a share known to +-2%). */
const ESTIMATE_SAMPLE = 500;

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
  /** The search's test of a text column (`c.c0` of library_search_content), when it scans. */
  scan?: { test: string; params: unknown[] };
}

interface SearchPlan {
  /** The search's words, lower-cased. */
  words: string[];
  /** The words the trigram index can look up (ASCII, 3+ characters). */
  trigrams: string[];
  mode: 'index' | 'scan';
}
const NO_SEARCH: SearchPlan = { words: [], trigrams: [], mode: 'index' };

/**
 * Each word in a text column as JavaScript's lower case finds it (the renderer's search): LIKE
 * (ASCII case folding) decides every text of ASCII characters only; the few others are folded
 * by `sfa_contains_folded`. A word with other characters cannot occur in an ASCII text.
 */
function textTest(words: readonly string[]): { sql: (column: string) => string; params: unknown[] } {
  const params: unknown[] = [];
  const parts: ((column: string) => string)[] = [];
  for (const word of words) {
    const nonAscii = (c: string) => `(octet_length(${c}) <> length(${c}) AND sfa_contains_folded(${c}, ?))`;
    if (isAscii(word)) {
      parts.push((c) => `(${c} LIKE ? ESCAPE '\\' OR ${nonAscii(c)})`);
      params.push(likeEscape(word), word);
    } else {
      parts.push(nonAscii);
      params.push(word);
    }
  }
  return { sql: (column) => parts.map((part) => part(column)).join(' AND '), params };
}

interface Row extends SummaryFields {
  id: string;
  source: 'mix' | 'stems';
}

export class LibraryListing {
  private readonly summaryRows;
  private readonly titleRow;
  private readonly probe;
  private readonly rowidRange;
  /** Whether anything changed since the counts below: another connection's commit, or this one's writes. */
  private readonly stamp;
  private readonly counts = new Map<string, number>();
  private countsAt = '';
  /** The estimate's sample as text (see `sampleTexts`), read when the database last changed. */
  private sample: { at: string; texts: string[] } | null = null;
  private readonly sampleRows;

  constructor(
    private readonly db: Database,
    private readonly tracks: TrackRepository,
    private readonly stems: StemRepository,
    /** Index matches up to which a search reads the index rather than scanning (see `where`). */
    private readonly rareMatches = RARE_MATCHES,
    /** The share of the library above which a search scans however few its matches (1: never). */
    private readonly denseShare = DENSE_SHARE,
  ) {
    // Two subqueries: min and max in one SELECT would scan the table instead of reading each end.
    this.rowidRange = db.prepare('SELECT (SELECT min(rowid) FROM tracks) AS lo, (SELECT max(rowid) FROM tracks) AS hi');
    this.probe = db.prepare('SELECT count(*) FROM (SELECT rowid FROM library_search WHERE library_search MATCH ? LIMIT ?)').pluck();
    this.summaryRows = db.prepare(
      'SELECT track_id AS id, source, tempo, key, camelot, key_confidence, energy, loudness FROM track_summary WHERE track_id IN (SELECT value FROM json_each(?))',
    );
    this.titleRow = db.prepare('SELECT title FROM tracks WHERE id = ?');
    this.stamp = db.prepare('SELECT data_version AS version, total_changes() AS changes FROM pragma_data_version');
    this.sampleRows = db
      .prepare('SELECT coalesce(c.c0, \'\') FROM tracks t LEFT JOIN library_search_content c ON c.id = t.rowid WHERE t.rowid IN (SELECT value FROM json_each(?))')
      .pluck();
    // Case folding as the renderer's search did it (String#toLowerCase), where neither the
    // trigram index nor SQLite's ASCII-only LIKE folds the same way (non-ASCII text).
    db.function('sfa_contains_folded', { deterministic: true, varargs: true }, (text: unknown, ...words: unknown[]) =>
      containsAll(String(text), words.map(String)) ? 1 : 0,
    );
  }

  list(query: ListQuery = {}): ListPage {
    const limit = Math.min(LIST_MAX_LIMIT, Math.max(1, query.limit ?? LIST_DEFAULT_LIMIT));
    const offset = Math.max(0, query.offset ?? 0);
    const where = this.where(query);
    const ids = this.window(query, where, offset, limit);
    const libraryTotal = this.count({ clauses: [], params: [] });
    const { total, exact } = this.total(query, where, offset, ids.length, limit);
    return { tracks: this.items(ids), total, totalExact: exact, libraryTotal, offset };
  }

  /** Tracks matching the filter, counted however long that takes (where `list` may estimate them). */
  countMatches(query: ListFilter): { total: number; libraryTotal: number } {
    return { total: this.count(this.where(query)), libraryTotal: this.count({ clauses: [], params: [] }) };
  }

  /**
   * The rows matching `where`: known when the window came back short of `limit` (it holds the
   * last match), else counted, or with `quickCount` estimated when the count is not remembered and
   * would be a scan of every text (a common word: 50-100 ms at 100,000 tracks).
   */
  private total(query: ListQuery, where: Where, offset: number, windowRows: number, limit: number): { total: number; exact: boolean } {
    if (windowRows < limit && (windowRows > 0 || offset === 0)) return { total: offset + windowRows, exact: true };
    if (!query.quickCount || !where.scan) return { total: this.count(where), exact: true };
    const remembered = this.remembered(this.countSql(where), where.params);
    if (remembered !== undefined) return { total: remembered, exact: true };
    return { total: this.estimate(query, where, offset + windowRows), exact: false };
  }

  /**
   * The scanned search's matches estimated from `ESTIMATE_SAMPLE` tracks spread evenly over the
   * library (rowids, so over the order they were added) that the other filters let through:
   * the share of them that matches, times the other filters' count; at least `atLeast`.
   */
  private estimate(query: ListFilter, where: Where, atLeast: number): number {
    const others = this.where(query, NO_SEARCH);
    const othersTotal = this.count(others);
    let sample: { n: number; m: number } | null;
    if (!others.clauses.length) {
      // The search alone: its words tested on the sample's texts in memory, read once per change of
      // the database, instead of 500 lookups in SQLite on every keystroke (~2.5 ms at 100,000 tracks).
      const texts = this.sampleTexts();
      const words = searchWords(query.search);
      sample = { n: texts.length, m: texts.filter((text) => containsAll(text, words)).length };
    } else {
      const rowids = this.sampleRowids();
      const join = others.clauses.some((w) => w.includes('a.')) ? SUMMARY : '';
      sample = rowids
        ? (this.db
            .prepare(
              `SELECT count(*) AS n, total(EXISTS (SELECT 1 FROM library_search_content c WHERE c.id = t.rowid AND ${where.scan!.test})) AS m
              FROM tracks t ${join} ${whereSql(['t.rowid IN (SELECT value FROM json_each(?))', ...others.clauses])}`,
            )
            .get(...where.scan!.params, JSON.stringify(rowids), ...others.params) as { n: number; m: number })
        : null;
    }
    if (!sample) return atLeast;
    const estimate = sample.n ? Math.round((sample.m / sample.n) * othersTotal) : 0;
    return Math.min(othersTotal, Math.max(atLeast, estimate));
  }

  /** `ESTIMATE_SAMPLE` rowids spread evenly from the first track's to the last's (null: no track). */
  private sampleRowids(): number[] | null {
    const { lo, hi } = this.rowidRange.get() as { lo: number | null; hi: number | null };
    if (lo === null || hi === null) return null;
    const step = Math.max(1, (hi - lo + 1) / ESTIMATE_SAMPLE);
    return Array.from({ length: Math.min(ESTIMATE_SAMPLE, hi - lo + 1) }, (_, i) => lo + Math.floor(i * step));
  }

  /** The searchable text of each sampled track, kept until the database changes. */
  private sampleTexts(): string[] {
    const stamp = this.stamp.get() as { version: number; changes: number };
    const at = `${stamp.version}:${stamp.changes}`;
    if (this.sample?.at !== at) {
      const rowids = this.sampleRowids();
      this.sample = { at, texts: rowids ? (this.sampleRows.all(JSON.stringify(rowids)) as string[]) : [] };
    }
    return this.sample.texts;
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

  /**
   * The filter as SQL. The search is one per-row test of the track's text (`library_search`:
   * title, artist, album, Camelot code, key name) for every word, as the renderer's search
   * matched it (JavaScript's lower case, each word a substring), reached one of two ways:
   * - `index`: the trigram index narrows to the rows holding every ASCII word of 3+ characters,
   *   then the test runs on those: quick when the words are rare;
   * - `scan`: the test runs on each row as the sort walks its index, stopping when the window is
   *   full: quick when the words are common (a word in every fifth track fills 200 rows after
   *   1,000), where the index would hand over every match to be sorted first.
   * `searchPlan` picks one by asking the index for a few matches more than `rareMatches` (and
   *   scans a word in more than `denseShare` of the library however few its matches).
   */
  private where(query: ListFilter, plan: SearchPlan = this.searchPlan(query.search)): Where {
    const clauses: string[] = [];
    const params: unknown[] = [];
    let scan: Where['scan'];
    if (plan.words.length) {
      const test = textTest(plan.words);
      if (plan.mode === 'index') {
        clauses.push(`t.rowid IN (SELECT rowid FROM library_search WHERE library_search MATCH ? AND ${test.sql('text')})`);
        params.push(plan.trigrams.map(phrase).join(' AND '), ...test.params);
      } else {
        // FTS5's own copy of each text (its documented %_content shadow table, id = rowid,
        // c0 = the text), read by rowid: the virtual table's rowid lookup costs several times more.
        clauses.push(`EXISTS (SELECT 1 FROM library_search_content c WHERE c.id = t.rowid AND ${test.sql('c.c0')})`);
        params.push(...test.params);
        scan = { test: test.sql('c.c0'), params: test.params };
      }
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
    return { clauses, params, scan };
  }

  /** How to search `search` (see `where`): the index when it narrows to few rows, else the scan. */
  private searchPlan(search: string | undefined): SearchPlan {
    const words = searchWords(search);
    const trigrams = words.filter((w) => isAscii(w) && w.length >= TRIGRAM);
    if (!words.length) return { words, trigrams, mode: 'index' };
    if (!trigrams.length) return { words, trigrams, mode: 'scan' };
    const found = this.probe.get(trigrams.map(phrase).join(' AND '), this.rareMatches + 1) as number;
    const rare = found <= this.rareMatches && found <= this.denseShare * this.count({ clauses: [], params: [] });
    return { words, trigrams, mode: rare ? 'index' : 'scan' };
  }

  private count(where: Where): number {
    return this.counted(this.countSql(where), where.params);
  }

  /**
   * A search that scans and nothing else is counted over the texts alone (one pass over
   * library_search's copy, rowid = the track's rowid), not by a lookup per track.
   */
  private countSql(where: Where): string {
    if (where.scan && where.clauses.length === 1) return `SELECT count(*) AS n FROM library_search_content c WHERE ${where.scan.test}`;
    const join = where.clauses.some((w) => w.includes('a.')) ? SUMMARY : '';
    return `SELECT count(*) AS n FROM tracks t ${join} ${whereSql(where.clauses)}`;
  }

  /**
   * A count, remembered until the database changes: scrolling a search asks for page after page
   * of the same query, and counting a search costs a pass over its matches.
   */
  private counted(sql: string, params: unknown[]): number {
    let n = this.remembered(sql, params);
    if (n === undefined) {
      n = (this.db.prepare(sql).get(...params) as { n: number }).n;
      if (this.counts.size >= 64) this.counts.clear();
      this.counts.set(countKey(sql, params), n);
    }
    return n;
  }

  /** The count of `sql` if it is remembered and nothing changed since. */
  private remembered(sql: string, params: unknown[]): number | undefined {
    const stamp = this.stamp.get() as { version: number; changes: number };
    const now = `${stamp.version}:${stamp.changes}`;
    if (now !== this.countsAt) {
      this.counts.clear();
      this.countsAt = now;
    }
    return this.counts.get(countKey(sql, params));
  }

  /** The ids of one window in the sort's order. */
  private window(query: ListFilter, where: Where, offset: number, limit: number): string[] {
    const sort = query.sort ?? { key: 'addedAt', dir: -1 };
    const plan = SORTS[sort.key];
    const dir = sort.dir === 1 ? 'ASC' : 'DESC';
    const order = `${plan.column} ${dir}, ${plan.tie} ${dir}`;
    if (!plan.nullable) return this.select(plan.joins ?? SUMMARY, where.clauses, where.params, order, limit, offset, { plan, dir });
    // Unknown values last whichever the direction, in two parts, so that each can walk an index
    // (NULLS LAST on one query cannot): the known values by the column, then the rest. A summary
    // column's known part starts from track_summary (its index), joined to the track.
    const onSummary = plan.tie === 'a.rowid';
    const from = onSummary ? 'JOIN track_summary a ON a.track_id = t.id' : SUMMARY;
    const known = [...where.clauses, `${plan.column} IS NOT NULL`];
    const ids = this.select(from, known, where.params, order, limit, offset, { plan, dir });
    if (ids.length === limit) return ids;
    // The known values end in this window (at offset + ids.length) or before it: only then is
    // their count needed, to know where in the unknown part the window starts.
    const knownCount = ids.length ? offset + ids.length : this.counted(`SELECT count(*) AS n FROM tracks t ${from} ${whereSql(known)}`, where.params);
    const unknown = [...where.clauses, `${plan.column} IS NULL`];
    ids.push(...this.select(SUMMARY, unknown, where.params, LIBRARY_ORDER, limit - ids.length, Math.max(0, offset - knownCount)));
    return ids;
  }

  /** The ids of one window; read from the sort's own table first where the filter allows (see `OwnTable`). */
  private select(from: string, clauses: string[], params: unknown[], order: string, limit: number, offset: number, sort?: { plan: SortPlan; dir: string }): string[] {
    const own = sort?.plan.own;
    const sql =
      own && clauses.every((clause) => tablesIn(clause).every((alias) => alias === own.alias))
        ? `SELECT t.id FROM (SELECT ${own.trackKey} AS track_key, ${sort.plan.column} AS sort_value, ${sort.plan.tie} AS tie FROM ${own.from} ${whereSql(clauses)}
            ORDER BY ${order} LIMIT ? OFFSET ?) w JOIN tracks t ON ${own.joinOn} ORDER BY w.sort_value ${sort.dir}, w.tie ${sort.dir}`
        : `SELECT t.id FROM tracks t ${from} ${whereSql(clauses)} ORDER BY ${order} LIMIT ? OFFSET ?`;
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

/** A search's words, lower-cased: each must occur in a track's text. */
const searchWords = (search: string | undefined) => (search ?? '').toLowerCase().split(/\s+/).filter(Boolean);

/** `textTest` in JavaScript (the estimate's sample): every word in the text, case aside. */
function containsAll(text: string, words: readonly string[]): boolean {
  const folded = text.toLowerCase();
  return words.every((word) => folded.includes(word));
}

const countKey = (sql: string, params: unknown[]) => `${sql}\u0000${JSON.stringify(params)}`;

/** The table aliases a filter clause reads (`a.tempo >= ?`: a). */
function tablesIn(clause: string): string[] {
  return [...clause.matchAll(/\b([a-z]\w*)\.[a-z_]/gi)].map((m) => m[1]!);
}

function whereSql(clauses: string[]): string {
  return clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
}

function statusOf(t: Track): Track['status'] {
  return t.status === 'ready' && t.path && !existsSync(t.path) ? 'missing' : t.status;
}
