/**
 * DJ software through the contract, with the real sidecar (mutagen, ffmpeg) and real readers:
 * mutagen for tags, pyrekordbox for rekordbox XML, Python's XML parser for Traktor NML.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CollectionExport, StemFilesExport, TagsResult, TagsView } from '../../../shared/dj';
import type { AddResult } from '../../../shared/domain';
import { analysisResult } from '../../../test/analysis';
import { tempDir, writeSine } from '../../../test/fixtures';
import { createEngineForTests as createEngine, type TestEngine as Engine } from '../../test/engine';
import { silentLogger } from '../../log';
import { pythonEnvironment } from '../../sidecar/environment';
import { bundledFfmpeg } from '../../workers/tool-process';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(): Promise<{ engine: Engine; dir: string }> {
  const t = tempDir('sfa-dj-');
  cleanups.push(t.cleanup);
  const engine = await createEngine({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger });
  cleanups.push(() => engine.close());
  return { engine, dir: t.dir };
}

async function ok<T>(engine: Engine, name: string, params: unknown): Promise<T> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
}

async function add(engine: Engine, files: string[]): Promise<string[]> {
  const result = await ok<AddResult>(engine, 'library.add', { inputs: files, steps: [] });
  expect(result.errors).toEqual([]);
  return files.map((f) => engine.tracks.list().find((t) => t.path === f)!.id);
}

/** An analysis result as the analyzer stores it (DESIGN.md 4.3), with or without the beat grid. */
function analysis(bpm: number, key: [string, 'major' | 'minor'], options: { grid?: boolean; level?: number } = {}) {
  const beats = Array.from({ length: 8 }, (_, i) => 0.25 + (i * 60) / bpm);
  return analysisResult({
    source: 'mix',
    duration: 3,
    tempo: { bpm, confidence: 0.9, beats, alternatives: [] },
    key: { key: `${key[0]} ${key[1]}`, tonic: key[0], mode: key[1], camelot: '8A', open_key: '1m', confidence: 0.8 },
    energy: { rms_mean: 0.1, zcr_mean: 0.05, level: options.level ?? 7, loudness_lufs: -9 },
    spectral: { centroid_mean: 1000, rolloff_mean: 3000 },
    ...(options.grid ? { grid: { beats, downbeats: [0.25 + (60 / bpm) * 1], meter: '4/4' as const, first_downbeat: 0.25 + 60 / bpm, downbeat_confidence: 0.5 } } : {}),
  });
}

function python(script: string, ...args: string[]): unknown {
  const out = execFileSync(pythonEnvironment().python, ['-c', script, ...args], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out);
}

async function audioMd5(path: string): Promise<string> {
  return execFileSync(await bundledFfmpeg(), ['-nostdin', '-v', 'error', '-i', path, '-map', '0:a', '-c', 'copy', '-f', 'md5', '-'], { encoding: 'utf8' }).trim();
}

describe('tags in the audio files', () => {
  it('writes BPM, key and energy, reads them back with mutagen, keeps the audio, and restores the old values', async () => {
    const { engine, dir } = await setup();
    const [a, b, c] = await add(engine, [writeSine(join(dir, 'a.wav'), 1), writeSine(join(dir, 'b.wav'), 1, { freq: 220 }), writeSine(join(dir, 'c.wav'), 1, { freq: 330 })]);
    engine.analyses.save(a!, null, analysis(127.96, ['A', 'minor']));
    engine.analyses.save(b!, null, analysis(90, ['F#', 'major'], { level: 3 }));
    const pathA = engine.tracks.get(a!)!.path!;
    // The user's own tags from another program: BPM and key, which we show and later restore.
    python(
      'import sys, json; from mutagen.wave import WAVE; from mutagen.id3 import TBPM, TKEY, TIT2; w = WAVE(sys.argv[1]); w.add_tags(); ' +
        'w.tags.add(TBPM(encoding=3, text=["64"])); w.tags.add(TKEY(encoding=3, text=["C"])); w.tags.add(TIT2(encoding=3, text=["Mine"])); w.save(); print("null")',
      pathA,
    );
    const md5 = await audioMd5(pathA);

    const before = await ok<TagsView>(engine, 'tags.read', { id: a });
    expect(before).toMatchObject({ file: { format: 'id3', bpm: '64', key: 'C' }, ours: { bpm: 127.96, key: 'Am' }, written: false });

    const written = await ok<TagsResult>(engine, 'tags.write', { ids: [a, b, c] });
    expect(written.written).toBe(2);
    expect(written.skipped).toEqual([expect.objectContaining({ trackId: c, code: 'NOT_FOUND', reason: expect.stringContaining('not analysed') })]);
    const read = python(
      'import sys, json, mutagen; t = mutagen.File(sys.argv[1]).tags; print(json.dumps({k: str(t[k].text[0]) for k in ("TBPM", "TKEY")} | {"COMM": [str(f.text[0]) for f in t.getall("COMM")]}))',
      pathA,
    );
    expect(read).toEqual({ TBPM: '128', TKEY: 'Am', COMM: ['Energy 7'] });
    expect(await audioMd5(pathA)).toBe(md5);
    expect(await ok<TagsView>(engine, 'tags.read', { id: a })).toMatchObject({ file: { bpm: '128', key: 'Am', comment: 'Energy 7' }, written: true });

    // Camelot per request; the setting's energy field moves energy to grouping.
    await ok(engine, 'settings.set', { energyField: 'grouping' });
    await ok(engine, 'tags.write', { ids: [b], keyNotation: 'camelot' });
    expect((await ok<TagsView>(engine, 'tags.read', { id: b })).file).toMatchObject({ key: '2B', grouping: 'Energy 3' });

    // A second write keeps the user's values as the ones to restore (not ours from the first write).
    await ok(engine, 'tags.write', { ids: [a] });
    const restored = await ok<TagsResult>(engine, 'tags.restore', {});
    expect(restored.written).toBe(2);
    expect((await ok<TagsView>(engine, 'tags.read', { id: a })).file).toMatchObject({ bpm: '64', key: 'C', comment: null, grouping: null, });
    expect((await ok<TagsView>(engine, 'tags.read', { id: b })).file).toMatchObject({ bpm: null, key: null, comment: null, grouping: null });
    expect(python('import sys, json, mutagen; print(json.dumps(str(mutagen.File(sys.argv[1]).tags["TIT2"].text[0])))', pathA)).toBe('Mine');
    expect(await audioMd5(pathA)).toBe(md5);
    const again = await ok<TagsResult>(engine, 'tags.restore', { ids: [a] });
    expect(again.skipped[0]).toMatchObject({ code: 'NOT_FOUND', reason: expect.stringContaining('nothing to restore') });
  });

  it('refuses read-only and missing files with the reason, touching nothing, and never leaves the library', async () => {
    const { engine, dir } = await setup();
    const ro = writeSine(join(dir, 'read only.wav'), 1);
    const gone = writeSine(join(dir, 'gone.wav'), 1, { freq: 500 });
    const [r, g] = await add(engine, [ro, gone]);
    for (const id of [r, g]) engine.analyses.save(id!, null, analysis(120, ['C', 'major']));
    const bytes = readFileSync(ro);
    chmodSync(ro, 0o444);
    cleanups.push(() => chmodSync(ro, 0o644));
    rmSync(gone);
    const result = await ok<TagsResult>(engine, 'tags.write', { ids: [r, g, 'no-such-track'] });
    expect(result.written).toBe(0);
    const byId = Object.fromEntries(result.skipped.map((s) => [s.trackId, s]));
    expect(byId[r!]).toMatchObject({ code: 'PERMISSION_DENIED', reason: expect.stringContaining('read-only') });
    expect(byId[g!]).toMatchObject({ code: 'FILE_NOT_FOUND', reason: expect.stringContaining('missing') });
    expect(byId['no-such-track']).toMatchObject({ code: 'NOT_FOUND' });
    expect(readFileSync(ro).equals(bytes)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['home', 'read only.wav']);
  });
});

describe('collections for DJ software', () => {
  const names = ['plain', 'with space #1 100%', 'Ünïcødé 東京', 'x'.repeat(200), 'same', 'same'];

  async function library(engine: Engine, dir: string) {
    const files = names.map((name, i) => {
      const folder = join(dir, `folder ${i} & co`);
      mkdirSync(folder, { recursive: true });
      return writeSine(join(folder, `${name}.wav`), 1 + i * 0.25, { freq: 200 + 40 * i });
    });
    const ids = await add(engine, files);
    ids.forEach((id, i) => engine.analyses.save(id, null, analysis(120 + i, [['A', 'C', 'F#', 'Eb', 'G', 'B'][i]!, i % 2 ? 'major' : 'minor'], { grid: i % 2 === 0 })));
    return { files, ids };
  }

  it('rekordbox XML round-trips through pyrekordbox with every field; a missing file is listed and the rest exported', async () => {
    const { engine, dir } = await setup();
    const { files, ids } = await library(engine, dir);
    const [unanalysed] = await add(engine, [writeSine(join(dir, 'no analysis.wav'), 1, { freq: 900 })]);
    const moved = writeSine(join(dir, 'moved.wav'), 1, { freq: 950 });
    const [missing] = await add(engine, [moved]);
    engine.analyses.save(missing!, null, analysis(100, ['D', 'minor']));
    rmSync(moved);
    const events: unknown[] = [];
    engine.events.subscribe((e, p) => e === 'dj:progress' && events.push(p));

    const out = join(dir, 'out dir', 'rekordbox.xml');
    const result = await ok<CollectionExport>(engine, 'export.rekordbox', { ids: [...ids, unanalysed, missing], out });
    expect(result).toMatchObject({ file: out, written: names.length });
    expect(result.skipped.map((s) => [s.trackId, s.code])).toEqual([
      [unanalysed, 'NOT_FOUND'],
      [missing, 'FILE_NOT_FOUND'],
    ]);
    expect(events.at(-1)).toEqual({ task: 'export.rekordbox', done: names.length, total: names.length });

    const read = python(
      `import sys, json
from pyrekordbox.rbxml import RekordboxXml
x = RekordboxXml(sys.argv[1])
pl = x.get_playlist("Sound Forge Alchemy")
print(json.dumps({"version": x.frmt_version, "count": x.num_tracks, "playlist": pl.get_tracks(),
  "tracks": [{k: t[k] for k in ("TrackID", "Name", "Artist", "Album", "TotalTime", "AverageBpm", "Tonality", "Location", "Kind")}
             | {"tempos": [[m.Inizio, m.Bpm, m.Metro, m.Battito] for m in t.tempos]} for t in x.get_tracks()]}))`,
      out,
    ) as { version: string; count: number; playlist: number[]; tracks: Record<string, unknown>[] };
    expect(read.version).toBe('1.0.0');
    expect(read.count).toBe(names.length);
    expect(read.playlist).toEqual(names.map((_, i) => i + 1));
    const keys = ['Am', 'C', 'F#m', 'Eb', 'Gm', 'B'];
    read.tracks.forEach((t, i) => {
      const track = engine.tracks.get(ids[i]!)!;
      const bpm = 120 + i;
      expect(t).toMatchObject({ TrackID: i + 1, Name: names[i], Album: '', AverageBpm: bpm, Tonality: keys[i], Kind: 'WAV File', TotalTime: 3 });
      // pyrekordbox drops the root slash of a POSIX path (it expects "C:/..."): rekordbox on a Mac writes file://localhost/Users/...
      expect(`/${String(t.Location)}`).toBe(files[i]);
      expect(files[i]).toBe(track.path);
      const start = i % 2 === 0 ? 0.25 + 60 / bpm : 0.25;
      expect(t.tempos).toEqual([[Number(start.toFixed(3)), bpm, '4/4', 1]]);
    });
    // the URI escaping itself: spaces, #, %, &, non-ASCII
    const xml = readFileSync(out, 'utf8');
    expect(xml).toContain('folder%201%20%26%20co/with%20space%20%231%20100%25.wav');
    expect(xml).toContain(encodeURIComponent('Ünïcødé 東京'));
    expect(readdirSync(join(dir, 'out dir'))).toEqual(['rekordbox.xml']);
  });

  it('Traktor NML has the documented structure; M3U8 lists every path', async () => {
    const { engine, dir } = await setup();
    const { files, ids } = await library(engine, dir);
    const nml = join(dir, 'collection.nml');
    const result = await ok<CollectionExport>(engine, 'export.traktor', { out: nml });
    expect(result.written).toBe(names.length);
    const read = python(
      `import sys, json, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
col = root.find("COLLECTION")
entries = []
for e in col.findall("ENTRY"):
    loc = e.find("LOCATION").attrib
    cue = [c.attrib for c in e.findall("CUE_V2")]
    entries.append({"title": e.get("TITLE"), "path": loc["VOLUME"] + loc["DIR"].replace("/:", "/")[:-1] + "/" + loc["FILE"],
      "key": loc["VOLUME"] + loc["DIR"] + loc["FILE"], "bpm": float(e.find("TEMPO").get("BPM")),
      "musical_key": int(e.find("MUSICAL_KEY").get("VALUE")), "cue": cue, "playtime": e.find("INFO").get("PLAYTIME")})
pl = root.find("PLAYLISTS/NODE/SUBNODES/NODE/PLAYLIST")
print(json.dumps({"root": root.tag, "version": root.get("VERSION"), "count": int(col.get("ENTRIES")), "entries": entries,
  "playlist": [p.get("KEY") for p in pl.findall("ENTRY/PRIMARYKEY")], "playlist_count": int(pl.get("ENTRIES"))}))`,
      nml,
    ) as { root: string; version: string; count: number; entries: Record<string, unknown>[]; playlist: string[]; playlist_count: number };
    expect(read).toMatchObject({ root: 'NML', version: '19', count: names.length, playlist_count: names.length });
    const traktorKeys = [21, 0, 18, 3, 19, 11];
    const byPath = new Map(read.entries.map((e) => [e.path, e]));
    files.forEach((file, i) => {
      const e = byPath.get(file)!;
      expect(e).toMatchObject({ title: names[i], bpm: 120 + i, musical_key: traktorKeys[i] });
      expect(e.cue).toEqual([expect.objectContaining({ NAME: 'AutoGrid', TYPE: '4', HOTCUE: '0' })]);
      const startMs = Number((e.cue as { START: string }[])[0]!.START);
      expect(startMs).toBeCloseTo((i % 2 === 0 ? 0.25 + 60 / (120 + i) : 0.25) * 1000, 3);
    });
    expect(read.playlist.sort()).toEqual(read.entries.map((e) => e.key as string).sort());

    const m3u = join(dir, 'list.m3u8');
    await ok(engine, 'export.m3u', { ids: [...ids].reverse(), out: m3u });
    const lines = readFileSync(m3u, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('#EXTM3U');
    expect(lines.filter((l) => !l.startsWith('#'))).toEqual([...files].reverse());
    expect(lines[1]).toBe(`#EXTINF:3,same`);
  });

  it('a disk that fills mid-export leaves nothing under the final name (nor a temporary file)', async (ctx) => {
    const { engine, dir } = await setup();
    await library(engine, dir);
    const small = join(dir, 'small');
    mkdirSync(small);
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=8k', 'tmpfs', small], { stdio: 'ignore' }).status !== 0) {
      return ctx.skip('cannot mount a small tmpfs here (needs root): the disk-full path is untested on this machine');
    }
    cleanups.push(() => void spawnSync('umount', ['-l', small], { stdio: 'ignore' }));
    writeFileSync(join(small, 'filler'), Buffer.alloc(6 * 1024));
    const reply = await engine.api.handle('export.rekordbox', { out: join(small, 'rekordbox.xml') });
    expect(reply).toMatchObject({ ok: false, error: { code: 'DISK_FULL', message: expect.stringContaining('nothing was written under that name') } });
    expect(readdirSync(small)).toEqual(['filler']);
    // A read-only disk: a typed refusal naming the file, nothing written.
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', locked], { stdio: 'ignore' }).status).toBe(0);
    cleanups.push(() => void spawnSync('umount', ['-l', locked], { stdio: 'ignore' }));
    const refused = await engine.api.handle('export.traktor', { out: join(locked, 'c.nml') });
    expect(refused).toMatchObject({ ok: false, error: { code: 'PERMISSION_DENIED', message: expect.stringContaining(join(locked, 'c.nml')) } });
  });

  it('streams 10,000 tracks with progress', async () => {
    const { engine, dir } = await setup();
    const file = writeSine(join(dir, 'one.wav'), 1);
    const insert = engine.db.transaction(() => {
      for (let i = 0; i < 10_000; i++) {
        const t = engine.tracks.insert({
          title: `Track ${i}`, artist: 'A', album: null, sourceKind: 'file', source: file, path: file, contentHash: `h${i}`,
          duration: 3, sampleRate: 44_100, channels: 2, codec: 'pcm_s16le', status: 'ready',
        });
        engine.analyses.save(t.id, null, analysis(100 + (i % 50), ['A', 'minor'], { grid: true }));
      }
    });
    insert();
    const events: { done: number }[] = [];
    engine.events.subscribe((e, p) => e === 'dj:progress' && events.push(p as { done: number }));
    const out = join(dir, 'big.xml');
    const result = await ok<CollectionExport>(engine, 'export.rekordbox', { out });
    expect(result.written).toBe(10_000);
    expect(events.length).toBeGreaterThan(1);
    expect(events.at(-1)!.done).toBe(10_000);
    const count = python('import sys, json; from pyrekordbox.rbxml import RekordboxXml; print(json.dumps(RekordboxXml(sys.argv[1]).num_tracks))', out);
    expect(count).toBe(10_000);
    expect(statSync(out).size).toBeGreaterThan(10_000 * 200);
  }, 120_000);
});

describe('stems for DJ software', () => {
  it('writes one NI Stems file per track (same titles kept apart) and plain stems; tracks without stems are skipped', async () => {
    const { engine, dir } = await setup();
    for (const folder of ['a', 'b']) mkdirSync(join(dir, folder));
    const ids = await add(engine, [writeSine(join(dir, 'a', 'Song.wav'), 2), writeSine(join(dir, 'b', 'Song.wav'), 2, { freq: 300 }), writeSine(join(dir, 'none.wav'), 1, { freq: 700 })]);
    for (const id of ids.slice(0, 2)) {
      engine.analyses.save(id, null, analysis(124, ['A', 'minor']));
      const folder = join(dir, 'stems', id);
      mkdirSync(folder, { recursive: true });
      engine.stems.register(
        ['drums', 'bass', 'other', 'vocals'].map((stem, i) => {
          const path = writeSine(join(folder, `${stem}.wav`), 2, { freq: 100 * (i + 1) });
          return { trackId: id, jobId: null, model: 'htdemucs', optionsKey: 'k', stem, path, size: 1, duration: 2, format: 'wav', device: 'cpu' };
        }),
      );
    }
    const out = join(dir, 'export');
    const result = await ok<StemFilesExport>(engine, 'export.stemFiles', { ids, format: 'stem.mp4', dir: out, codec: 'alac' });
    expect(result.files.map((f) => f.slice(out.length + 1))).toEqual(['Song.stem.mp4', 'Song (2).stem.mp4']);
    expect(result.skipped).toEqual([expect.objectContaining({ trackId: ids[2], code: 'NOT_FOUND', reason: expect.stringContaining('no stems') })]);
    const streams = python(
      'import sys, json, mutagen; from mutagen.mp4 import MP4; m = MP4(sys.argv[1]); print(json.dumps({"tmpo": m.tags["tmpo"], "key": bytes(m.tags["----:com.apple.iTunes:initialkey"][0]).decode()}))',
      result.files[0]!,
    );
    expect(streams).toEqual({ tmpo: [124], key: 'Am' });
    const plain = await ok<StemFilesExport>(engine, 'export.stemFiles', { ids: [ids[0]], format: 'flac', dir: out });
    expect(plain.files.map((f) => f.slice(out.length + 1))).toEqual(['Song - bass.flac', 'Song - drums.flac', 'Song - other.flac', 'Song - vocals.flac']);
    expect(existsSync(join(out, 'Song.stem.mp4'))).toBe(true);
  }, 120_000);

  it('the browser host writes only into the library\'s exports folder', async () => {
    const t = tempDir('sfa-dj-serve-');
    cleanups.push(t.cleanup);
    const engine = await createEngine({ home: join(t.dir, 'home'), host: 'serve', logger: silentLogger });
    cleanups.push(() => engine.close());
    const refused = await engine.api.handle('export.m3u', { out: join(t.dir, 'x.m3u8') });
    expect(refused).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
    const done = await ok<CollectionExport>(engine, 'export.m3u', {});
    expect(done.file.startsWith(join(t.dir, 'home'))).toBe(true);
    expect(existsSync(done.file)).toBe(true);
  });
});
