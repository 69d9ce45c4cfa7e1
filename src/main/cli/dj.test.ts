/**
 * `sfa tags` and `sfa export rekordbox|traktor|m3u|stems` as scripts use them: the built CLI
 * spawned against a home prepared through the engine (tracks, an analysis, registered stems).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analysisResult } from '../../test/analysis';
import { repoRoot, tempDir, writeSine } from '../../test/fixtures';
import { createEngineForTests as createEngine } from '../test/engine';
import { silentLogger } from '../log';

const run = promisify(execFile);
const cli = join(repoRoot, 'bin', 'sfa.mjs');
let dir: string;
let cleanup: () => void;
let ids: string[];

async function sfa(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, '--home', join(dir, 'home'), ...args], { timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(async () => {
  if (!existsSync(join(repoRoot, 'out', 'main', 'cli.js'))) throw new Error('The CLI is not built: run `npm run build` (npm test does it first).');
  ({ dir, cleanup } = tempDir('sfa-cli-dj-'));
  const engine = await createEngine({ home: join(dir, 'home'), host: 'cli', logger: silentLogger });
  try {
    const files = [writeSine(join(dir, 'One.wav'), 1), writeSine(join(dir, 'Two.wav'), 1, { freq: 300 })];
    await engine.api.handle('library.add', { inputs: files, steps: [] });
    ids = files.map((f) => engine.tracks.list().find((t) => t.path === f)!.id);
    engine.analyses.save(ids[0]!, null, analysisResult({
      source: 'mix', duration: 1, tempo: { bpm: 126, beats: [0.1, 0.576] }, key: { key: 'E minor', tonic: 'E', mode: 'minor', camelot: '9A', open_key: '2m' }, energy: { level: 6 },
    }));
    mkdirSync(join(dir, 'stems'));
    engine.stems.register(
      ['drums', 'vocals'].map((stem) => ({
        trackId: ids[0]!, jobId: null, model: 'dsp', optionsKey: 'k', stem, path: writeSine(join(dir, 'stems', `${stem}.wav`), 1), size: 1, duration: 1, format: 'wav', device: 'cpu',
      })),
    );
  } finally {
    await engine.close();
  }
});
afterAll(() => cleanup());

describe('sfa tags / export for DJ software', () => {
  it('writes and restores tags, with JSON as DESIGN.md 4.1 says', async () => {
    const write = await sfa('tags', 'write', ...ids, '--key-notation', 'camelot', '--json');
    expect(write.code).toBe(0);
    const result = JSON.parse(write.stdout) as { written: number; skipped: { trackId: string; code: string }[] };
    expect(result.written).toBe(1);
    expect(result.skipped).toEqual([expect.objectContaining({ trackId: ids[1], code: 'NOT_FOUND' })]);
    expect(JSON.parse((await sfa('tags', 'restore', '--json')).stdout)).toMatchObject({ written: 1, skipped: [] });
    // A file path names its track; a file outside the library is refused and left alone.
    const byPath = JSON.parse((await sfa('tags', 'write', join(dir, 'One.wav'), '--json')).stdout) as { files: string[] };
    expect(byPath.files).toEqual([join(dir, 'One.wav')]);
    await sfa('tags', 'restore', '--json');
    const outside = writeSine(join(dir, 'outside.wav'), 1, { freq: 800 });
    const before = readFileSync(outside);
    const refused = await sfa('tags', 'write', outside, '--json');
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout).error.message).toContain('not a file of a track in the library');
    expect(readFileSync(outside).equals(before)).toBe(true);
    expect((await sfa('tags', 'write', '--key-notation', 'lydian')).code).toBe(2);
    expect((await sfa('tags', 'frobnicate')).code).toBe(2);
  }, 180_000);

  it('exports rekordbox, Traktor and M3U8 files and stems; bad usage exits 2', async () => {
    for (const [what, file, marker] of [['rekordbox', 'c.xml', '<DJ_PLAYLISTS Version="1.0.0">'], ['traktor', 'c.nml', '<NML VERSION="19">'], ['m3u', 'c.m3u8', '#EXTM3U']] as const) {
      const out = join(dir, 'exports', file);
      const done = await sfa('export', what, '--out', out, '--json');
      expect(done.code).toBe(0);
      expect(JSON.parse(done.stdout)).toMatchObject({ file: out, written: 1, skipped: [] });
      expect(readFileSync(out, 'utf8')).toContain(marker);
    }
    const stems = await sfa('export', 'stems', '--format', 'wav', '--out', join(dir, 'stems out'), ...ids, '--json');
    expect(stems.code).toBe(0);
    const parsed = JSON.parse(stems.stdout) as { files: string[]; skipped: { trackId: string }[] };
    expect(parsed.files.map((f) => f.split('/').pop())).toEqual(['One - drums.wav', 'One - vocals.wav']);
    expect(parsed.skipped.map((s) => s.trackId)).toEqual([ids[1]]);
    const niStems = await sfa('export', 'stems', '--format', 'stem.mp4', '--out', join(dir, 'ni'), ids[0]!, '--json');
    expect(JSON.parse(niStems.stdout).skipped[0].reason).toContain('lack bass');
    expect((await sfa('export', 'rekordbox')).code).toBe(2);
    expect((await sfa('export', 'stems', '--format', 'ogg', '--out', dir)).code).toBe(2);
    expect((await sfa('export', 'm3u', '--out', join(dir, 'x.m3u8'), '--codec', 'alac')).code).toBe(2);
  }, 240_000);
});
