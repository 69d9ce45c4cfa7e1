import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrackListItem } from '../../shared/domain';
import { referenceFilter } from '../../renderer/test/reference-query';
import { analysisResult } from '../../test/analysis';
import { tempDir } from '../../test/fixtures';
import { silentLogger } from '../log';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { completeDownload } from './link-tracks';
import { listTracks } from './listing';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

type Listed = { tracks: TrackListItem[]; total: number; libraryTotal: number };
const CAMELOT = ['8A', '9A', '3B'];

/** An engine whose library holds `n` tracks ("song i"), every fourth not analysed. */
async function engineWith(n: number): Promise<TestEngine> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const engine = await createEngineForTests({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger });
  cleanups.push(() => engine.close());
  const ins = engine.db.prepare(`INSERT INTO tracks (id, title, artist, album, source_kind, source, path, duration, added_at, status)
    VALUES (?, ?, 'band', NULL, 'youtube', ?, NULL, 100, ?, 'pending')`);
  engine.db.transaction(() => {
    for (let i = 0; i < n; i++) {
      ins.run(`t${i}`, `song ${i}`, `https://example.com/${i}`, new Date(1e12 + i * 1000).toISOString());
      const camelot = CAMELOT[i % 3]!;
      if (i % 4) engine.analyses.save(`t${i}`, null, analysisResult({ source: 'mix', tempo: { bpm: 100 + i }, key: { key: 'A minor', camelot } }));
    }
  })();
  return engine;
}

async function call<T>(engine: TestEngine, name: 'library.list' | 'library.ids' | 'library.titles', params: unknown): Promise<T> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
}
const list = (engine: TestEngine, params: unknown) => call<Listed>(engine, 'library.list', params);

describe('library.list', () => {
  it('lists every track with its total when no window is named (the CLI, older callers)', async () => {
    const engine = await engineWith(30);
    for (const params of [undefined, {}]) {
      const { tracks, total } = await list(engine, params);
      expect(total).toBe(30);
      expect(tracks).toHaveLength(30);
    }
  });

  it('pages, sorts, searches and filters in the engine, counting every match', async () => {
    const engine = await engineWith(30);
    const page = await list(engine, { offset: 5, limit: 10, sort: { column: 'title', dir: 'asc' } });
    expect(page.total).toBe(30);
    const titles = (await list(engine, {})).tracks.map((t) => t.title.toLowerCase()).sort();
    expect(page.tracks.map((t) => t.title)).toEqual(titles.slice(5, 15));

    const bpm = await list(engine, { sort: { column: 'bpm', dir: 'desc' }, limit: 1000 });
    const known = bpm.tracks.filter((t) => t.analysis).map((t) => t.analysis!.bpm);
    expect(known).toEqual([...known].sort((a, b) => b! - a!));
    expect(bpm.tracks.slice(known.length).every((t) => !t.analysis)).toBe(true);

    const search = await list(engine, { search: 'song 1' });
    expect(search.tracks.map((t) => t.title).sort()).toEqual(['song 1', ...Array.from({ length: 10 }, (_, i) => `song 1${i}`), 'song 21'].sort());

    const filtered = await list(engine, { bpmMin: 110, bpmMax: 119, keys: ['8A', '3B'] });
    const expected = Array.from({ length: 30 }, (_, i) => i).filter((i) => i % 4 && i >= 10 && i <= 19 && i % 3 !== 1);
    expect(filtered.total).toBe(expected.length);
    expect(filtered.libraryTotal).toBe(30);
    expect(filtered.tracks.map((t) => t.id).sort()).toEqual(expected.map((i) => `t${i}`).sort());
    expect((await list(engine, { keys: [] })).total).toBe(0);
  });

  it('names the ids of any range of the table, loaded or not (shift-click), and titles by id', async () => {
    const engine = await engineWith(30);
    const query = { sort: { column: 'bpm', dir: 'asc' }, search: 'song' };
    const all = (await list(engine, { ...query, limit: 1000 })).tracks.map((t) => t.id);
    const { ids } = await call<{ ids: string[] }>(engine, 'library.ids', { ...query, offset: 3, limit: 20 });
    expect(ids).toEqual(all.slice(3, 23));
    const { titles } = await call<{ titles: Record<string, string> }>(engine, 'library.titles', { ids: ['t3', 't29', 'nope'] });
    expect(titles).toEqual({ t3: 'song 3', t29: 'song 29' });
  });

  it('refuses malformed requests with BAD_REQUEST before touching the database', async () => {
    const engine = await engineWith(1);
    for (const params of [
      { limit: 0 },
      { limit: 100_000 },
      { offset: -1 },
      { offset: 1.5 },
      { sort: { column: 'rowid', dir: 'asc' } },
      { sort: { column: 'title', dir: 'up' } },
      { keys: ['8A', "8A' OR 1=1"] },
      { keys: ['13A'] },
      { search: 'x'.repeat(501) },
      { bpmMin: -5 },
      { bpmMin: 'fast' },
      { extra: 1 },
    ]) {
      const reply = await engine.api.handle('library.list', params);
      expect(reply, JSON.stringify(params)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    for (const params of [{}, { offset: 0 }, { offset: 0, limit: 100_001 }, { offset: 0, limit: 5, search: 1 }]) {
      expect(await engine.api.handle('library.ids', params), JSON.stringify(params)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    for (const params of [{}, { ids: [] }, { ids: ['../x'] }, { ids: Array.from({ length: 1001 }, (_, i) => `t${i}`) }]) {
      expect(await engine.api.handle('library.titles', params), JSON.stringify(params).slice(0, 80)).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
  });
});

describe('the listing after each write path', () => {
  /** The engine's window for `search` and filters finds exactly what the full listing and the former client-side filter find. */
  async function agrees(engine: TestEngine, filter: { search?: string; bpmMin?: number; key?: string }): Promise<string[]> {
    const expected = referenceFilter(listTracks(engine), filter).map((t) => t.id).sort();
    const page = await list(engine, { search: filter.search, bpmMin: filter.bpmMin, keys: filter.key ? [filter.key] : undefined, limit: 1000 });
    expect(page.tracks.map((t) => t.id).sort()).toEqual(expected);
    expect(page.total).toBe(expected.length);
    return expected;
  }

  it('stays correct on add, metadata, analysis, re-analysis, stems, status and remove', async () => {
    const engine = await engineWith(12);
    // add (the importer's insert)
    const added = engine.tracks.insert({ title: 'Pending link', artist: null, album: null, sourceKind: 'youtube', source: 'https://example.com/new', path: null, contentHash: null, duration: null, sampleRate: null, channels: null, codec: null, status: 'pending', spotifyId: null, youtubeId: null, isrc: null, coverUrl: null, downloadSize: null });
    expect(await agrees(engine, { search: 'ding li' })).toEqual([added.id]);
    expect((await list(engine, { limit: 1 })).total).toBe(13);
    // the download names the track (title, artist and album change)
    completeDownload(engine.db, added.id, { path: '/nowhere/x.wav', size: 1, duration: 61, sampleRate: 44100, channels: 2, codec: 'pcm' }, { title: 'Midnight Lantern', artists: ['Quasar Choir'], album: 'Glow' });
    expect(await agrees(engine, { search: 'ding li' })).toEqual([]);
    expect(await agrees(engine, { search: 'ight lan asar' })).toEqual([added.id]);
    // analysis saved: key name and Camelot code searchable, BPM filterable, sortable
    engine.analyses.save(added.id, null, analysisResult({ tempo: { bpm: 171 }, key: { key: 'F# minor', camelot: '11A' } }));
    expect(await agrees(engine, { search: 'f# min' })).toEqual([added.id]);
    expect(await agrees(engine, { bpmMin: 170 })).toEqual([added.id]);
    expect((await list(engine, { sort: { column: 'bpm', dir: 'desc' }, limit: 1 })).tracks[0]!.id).toBe(added.id);
    // re-analysis replaces the summary
    engine.analyses.save(added.id, null, analysisResult({ tempo: { bpm: 90 }, key: { key: 'C major', camelot: '8B' } }));
    expect(await agrees(engine, { search: '11a' })).toEqual([]);
    expect(await agrees(engine, { key: '8B' })).toEqual([added.id]);
    expect(await agrees(engine, { bpmMin: 170 })).toEqual([]);
    // stems registered
    engine.stems.register(['drums', 'bass', 'vocals'].map((stem) => ({ trackId: added.id, jobId: null, model: 'dsp', optionsKey: 'k', stem, path: `/s/${stem}.wav`, size: 1, duration: 1, format: 'wav', device: 'cpu' })));
    const shown = (await list(engine, { search: 'lantern' })).tracks[0]!;
    expect(shown.stemCount).toBe(3);
    // status: the file is gone from disk, the row says so
    expect(shown.status).toBe('missing');
    // remove
    await engine.api.handle('library.remove', { ids: [added.id, 't1'] });
    expect(await agrees(engine, { search: 'lantern' })).toEqual([]);
    expect(await agrees(engine, { search: 'song 1' })).not.toContain('t1');
    expect((await list(engine, { limit: 1 })).total).toBe(11);
    expect((await call<{ titles: Record<string, string> }>(engine, 'library.titles', { ids: [added.id] })).titles).toEqual({});
  });
});
