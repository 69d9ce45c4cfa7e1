import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { analysisResult } from '../../test/analysis';
import { tempDir } from '../../test/fixtures';
import { openDatabase, type Db } from '../db/connection';
import { migrate } from '../db/migrate';
import { migrations } from '../db/migrations';
import { AnalysisRepository } from './analyses';
import { LibraryListing } from './listing-query';
import { StemRepository } from './stems';
import { TrackRepository } from './tracks';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

const WORDS = ['night', 'drive', 'sunset', 'echo', 'velvet', 'neon', 'river', 'ghost'];
const CAMELOT = ['8A', '8B', '9A', '7A', '3B'];

/**
 * A library of `n` tracks: every third not analysed, every fifth with stems, one file missing.
 * `denseShare` 1 (the default here): a search reads the index up to `rareMatches`, however common its word.
 */
function library(n: number, rareMatches?: number, denseShare = 1) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db: Db = openDatabase(join(t.dir, 'db.sqlite'));
  migrate(db, migrations);
  const audio = join(t.dir, 'a.wav');
  writeFileSync(audio, 'RIFF');
  const tracks = new TrackRepository(db);
  const analyses = new AnalysisRepository(db);
  const stems = new StemRepository(db);
  const ins = db.prepare(`INSERT INTO tracks (id, title, artist, album, source_kind, source, path, duration, added_at, status)
    VALUES (?, ?, ?, NULL, 'file', ?, ?, ?, ?, 'ready')`);
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const id = `t${i}`;
      const path = i === 7 ? join(t.dir, 'gone.wav') : audio;
      ins.run(id, `${WORDS[i % 8]} ${WORDS[(i * 3) % 8]} ${i}`, i % 4 ? `${WORDS[(i + 1) % 8]} trio` : null, `${path}#${i}`, path, 100 + ((i * 37) % 200), new Date(1e12 + i * 1000).toISOString());
      if (i % 3) {
        const camelot = CAMELOT[i % CAMELOT.length]!;
        analyses.save(id, null, analysisResult({ source: 'mix', tempo: { bpm: 80 + ((i * 7) % 90) }, key: { key: camelot.endsWith('A') ? 'A minor' : 'C major', camelot }, energy: { rms_mean: 0.1, level: (i % 10) / 10, loudness_lufs: -8 } }));
      }
      if (i % 5 === 0) stems.register(['drums', 'bass'].map((stem) => ({ trackId: id, jobId: null, model: 'dsp', optionsKey: 'k', stem, path: `/s/${id}/${stem}.wav`, size: 1, duration: 1, format: 'wav', device: 'cpu' })));
    }
  })();
  return { db, tracks, analyses, stems, listing: new LibraryListing(db, tracks, stems, rareMatches, denseShare) };
}

describe('LibraryListing', () => {
  it('pages in library order with the same fields as the full listing', () => {
    const lib = library(500);
    const summaries = lib.analyses.summaries();
    const stemSets = lib.stems.latestSetByTrack();
    const all = lib.tracks.list();
    const first = lib.listing.list({ limit: 50 });
    const second = lib.listing.list({ offset: 50, limit: 50 });
    expect(first.total).toBe(500);
    expect([...first.tracks, ...second.tracks].map((t) => t.id)).toEqual(all.slice(0, 100).map((t) => t.id));
    for (const item of [...first.tracks, ...second.tracks]) {
      expect(item.analysis).toEqual(summaries.get(item.id) ?? null);
      expect(item.stemCount).toBe(Object.keys(stemSets.get(item.id)?.stems ?? {}).length);
    }
    expect(lib.listing.list({ offset: 480, limit: 50 }).tracks.find((t) => t.id === 't7')?.status).toBe('missing');
  });

  it('sorts in SQL with unknown values last in both directions', () => {
    const lib = library(300);
    for (const dir of [1, -1] as const) {
      const page = lib.listing.list({ sort: { key: 'bpm', dir }, limit: 1000 });
      const bpms = page.tracks.map((t) => t.analysis?.bpm ?? null);
      const known = bpms.filter((b): b is number => b !== null);
      expect(bpms.slice(known.length).every((b) => b === null)).toBe(true);
      expect(known).toEqual([...known].sort((a, b) => (a - b) * dir));
    }
    const keys = lib.listing.list({ sort: { key: 'key', dir: 1 }, limit: 1000 }).tracks.map((t) => t.analysis?.camelot).filter(Boolean);
    expect([...new Set(keys)]).toEqual(['3B', '7A', '8A', '8B', '9A']);
    const titles = lib.listing.list({ sort: { key: 'title', dir: 1 }, limit: 5 }).tracks.map((t) => t.title);
    expect(titles.every((title) => title.startsWith('drive'))).toBe(true);
  });

  it('reads a deep page of a summary or status sort from its index before joining the tracks, pages matching one window', () => {
    const lib = library(300);
    const windows: string[] = [];
    const prepare = lib.db.prepare.bind(lib.db);
    lib.db.prepare = ((sql: string) => {
      if (/ORDER BY[\s\S]*LIMIT \? OFFSET \?/.test(sql)) windows.push(sql);
      return prepare(sql);
    }) as typeof lib.db.prepare;
    /** The query plan of the window's statement: its steps, the inner window's (a co-routine) apart. */
    const plan = (sql: string) => {
      const rows = prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array<null>((sql.match(/\?/g) ?? []).length).fill(null)) as { id: number; parent: number; detail: string }[];
      const inner = rows.find((r) => r.detail.startsWith('CO-ROUTINE'));
      return { inner: rows.filter((r) => inner && r.parent === inner.id).map((r) => r.detail), all: rows.map((r) => r.detail).join(' | ') };
    };
    for (const [key, index] of [
      ['status', /^SCAN s USING COVERING INDEX track_status_rank$/],
      ['bpm', /^SEARCH a USING INDEX track_summary_tempo/],
      ['energy', /^SEARCH a USING INDEX track_summary_energy/],
    ] as const) {
      for (const dir of [1, -1] as const) {
        const all = lib.listing.list({ sort: { key, dir }, limit: 1000 }).tracks.map((t) => t.id);
        windows.length = 0;
        const pages = [0, 50, 100, 150, 200, 250].flatMap((offset) => lib.listing.list({ sort: { key, dir }, offset, limit: 50 }).tracks.map((t) => t.id));
        expect(pages).toEqual(all);
        // The window (LIMIT/OFFSET) walks the sort's index alone: OFFSET skips index entries, and
        // only the rows kept are joined to their tracks; no sort of the library.
        const { inner, all: steps } = plan(windows[0]!);
        expect(inner).toEqual([expect.stringMatching(index)]);
        expect(steps).not.toContain('TEMP B-TREE');
      }
    }
    // A filter on the tracks' own text cannot be read from the sort's table alone: the join stays.
    windows.length = 0;
    lib.listing.list({ sort: { key: 'status', dir: 1 }, search: 'night', limit: 50 });
    expect(plan(windows[0]!).inner).toEqual([]);
  });

  it('filters by BPM range and Camelot keys, and counts the matches', () => {
    const lib = library(300);
    const page = lib.listing.list({ bpmMin: 100, bpmMax: 120, camelot: ['8A', '9A'], limit: 1000 });
    expect(page.total).toBe(page.tracks.length);
    expect(page.total).toBeGreaterThan(0);
    for (const t of page.tracks) {
      expect(t.analysis!.bpm!).toBeGreaterThanOrEqual(100);
      expect(t.analysis!.bpm!).toBeLessThanOrEqual(120);
      expect(['8A', '9A']).toContain(t.analysis!.camelot);
    }
    expect(lib.listing.list({ camelot: [] }).total).toBe(0);
  });

  it('searches words anywhere in the text and key codes, kept in step on rename and delete', () => {
    const lib = library(300);
    const page = lib.listing.list({ search: 'velv trio', limit: 1000 });
    expect(page.total).toBeGreaterThan(0);
    for (const t of page.tracks) expect(`${t.title} ${t.artist}`.toLowerCase()).toMatch(/\bvelv.*trio|trio.*\bvelv/);
    const byKey = lib.listing.list({ search: '8a', limit: 1000 });
    expect(byKey.total).toBeGreaterThan(0);
    expect(byKey.tracks.every((t) => t.analysis?.camelot === '8A')).toBe(true);
    expect(lib.listing.list({ search: 'quasar' }).total).toBe(0);
    lib.db.prepare("UPDATE tracks SET title = 'Quasar lights' WHERE id = 't1'").run();
    expect(lib.listing.list({ search: 'quasar' }).tracks.map((t) => t.id)).toEqual(['t1']);
    lib.db.prepare("DELETE FROM tracks WHERE id = 't1'").run();
    expect(lib.listing.list({ search: 'quasar' }).total).toBe(0);
    expect(lib.listing.list({ search: 'a"b' }).total).toBe(0); // quotes cannot break the FTS query
    expect(lib.listing.list({ search: '"' }).total).toBe(0);
    expect(lib.listing.list({ search: '%' }).total).toBe(0); // nor LIKE's wildcards
  });

  it('pages a common word in the same order scanning as through the index, in every sort and with filters', () => {
    const byIndex = library(600);
    const scanning = library(600, 0);
    const filters = [{ search: 'night' }, { search: 'ni tr' }, { search: 'echo', bpmMin: 100, bpmMax: 150 }, { search: '8a river' }];
    for (const key of ['addedAt', 'title', 'artist', 'bpm', 'energy', 'status'] as const) {
      for (const dir of [1, -1] as const) {
        for (const filter of filters) {
          const query = { ...filter, sort: { key, dir } };
          const expected = byIndex.listing.list({ ...query, limit: 1000 });
          const pages = [0, 1, 2, 3].flatMap((p) => scanning.listing.list({ ...query, offset: p * 40, limit: 40 }).tracks);
          expect(pages.map((t) => t.id), JSON.stringify(query)).toEqual(expected.tracks.slice(0, 160).map((t) => t.id));
        }
      }
    }
  });

  it('estimates a scanned search\u2019s total when asked to answer quickly, and counts it exactly on request', () => {
    const lib = library(600, 0);
    const quick = lib.listing.list({ search: 'night', limit: 20, quickCount: true });
    expect(quick.totalExact).toBe(false);
    expect(quick.tracks).toHaveLength(20);
    const exact = lib.listing.countMatches({ search: 'night' }).total;
    expect(exact).toBeGreaterThan(100);
    // The sample (500 tracks spread over the 600) sees nearly every match.
    expect(Math.abs(quick.total - exact) / exact).toBeLessThan(0.25);
    expect(lib.listing.list({ search: 'night', limit: 20 })).toMatchObject({ total: exact, totalExact: true });
    // Counted once, the count is remembered: the next quick window says it exactly.
    expect(lib.listing.list({ search: 'night', offset: 20, limit: 20, quickCount: true })).toMatchObject({ total: exact, totalExact: true });
    // A window that comes back short holds the last match: its end is the total.
    const end = lib.listing.list({ search: 'night', offset: exact - 5, limit: 20, quickCount: true });
    expect(end).toMatchObject({ total: exact, totalExact: true });
    expect(end.tracks).toHaveLength(5);
    // The estimate never exceeds what the other filters let through.
    const filtered = lib.listing.list({ search: 'echo', bpmMin: 160, limit: 1, quickCount: true });
    expect(filtered.total).toBeLessThanOrEqual(lib.listing.countMatches({ bpmMin: 160 }).total);
  });

  it('scans for a word in many tracks of a small library, reads the index for a rare one', () => {
    const lib = library(600, undefined, 0.05);
    // Scanned: its total estimated (a window asking for a quick answer), counted on request.
    expect(lib.listing.list({ search: 'night', limit: 10, quickCount: true }).totalExact).toBe(false);
    expect(lib.listing.countMatches({ search: 'night' }).total).toBeGreaterThan(30);
    // One match of 600 (title 100): read through the index, so counted at once.
    expect(lib.listing.list({ search: '100', limit: 1, quickCount: true })).toMatchObject({ total: 1, totalExact: true });
  });

  it('estimates from the texts of the library as it is now, not as first sampled', () => {
    const lib = library(600, 0);
    const quick = (search: string) => lib.listing.list({ search, limit: 10, quickCount: true });
    const before = quick('night');
    expect(before.totalExact).toBe(false);
    // Words tested as the SQL search tests them: case aside, every word, anywhere in the text.
    const exact = lib.listing.countMatches({ search: 'NIGHT trio' }).total;
    expect(Math.abs(quick('NIGHT trio').total - exact) / exact).toBeLessThan(0.25);
    // Every title gets the word: the next estimate reads the changed texts.
    lib.db.prepare("UPDATE tracks SET title = title || ' night'").run();
    const after = quick('night');
    expect(before.total).toBeLessThan(400);
    expect(after.total).toBe(600);
  });
});
