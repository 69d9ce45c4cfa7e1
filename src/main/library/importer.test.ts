/**
 * The streaming import: a folder of a few hundred tiny WAVs through the real probe sidecar and a
 * real SQLite library. Batches are bounded, the folder is pulled lazily, progress is reported,
 * each bad file gets its own error while the rest go in, and importing again adds nothing.
 */
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ImportCounts, Track } from '../../shared/domain';
import { sineWav, tempDir } from '../../test/fixtures';
import { openDatabase, type Db } from '../db/connection';
import { migrate } from '../db/migrate';
import { migrations } from '../db/migrations';
import { pythonEnvironment } from '../sidecar/environment';
import { SidecarPool } from '../sidecar/pool';
import { walkAudioFiles, type WalkEntry } from './files';
import { IMPORT_BATCH, Importer } from './importer';
import { TrackRepository } from './tracks';

/** Every entry the importer's walks yielded, in this test file (the walker is wrapped, not replaced). */
const walked: WalkEntry[] = [];
vi.mock('./files', async (original) => {
  const real = await original<typeof import('./files')>();
  return {
    ...real,
    async *walkAudioFiles(root: string, limit?: number) {
      for await (const entry of real.walkAudioFiles(root, limit)) {
        walked.push(entry);
        yield entry;
      }
    },
  };
});

const GOOD = 300;
let dir: string;
let cleanup: () => void;
let pool: SidecarPool;

beforeAll(() => {
  ({ dir, cleanup } = tempDir('sfa-import-'));
  const folder = join(dir, 'drop');
  mkdirSync(join(folder, 'sub'), { recursive: true });
  // 300 distinct tiny clips (each its own tone), a third of them in a subfolder
  for (let i = 0; i < GOOD; i++) {
    writeFileSync(join(folder, i % 3 ? '' : 'sub', `clip ${String(i).padStart(3, '0')}.wav`), sineWav(0.05, { freq: 100 + i, channels: 1, sampleRate: 8000 }));
  }
  writeFileSync(join(folder, 'noise.wav'), Buffer.alloc(4096, 7));
  writeFileSync(join(folder, 'empty.mp3'), '');
  writeFileSync(join(folder, 'header only.wav'), sineWav(0.05).subarray(0, 44));
  writeFileSync(join(folder, 'locked.wav'), sineWav(0.05, { freq: 999 }));
  chmodSync(join(folder, 'locked.wav'), 0o000);
  symlinkSync(join(folder, 'gone.wav'), join(folder, 'dangling.wav'));
  writeFileSync(join(folder, 'notes.txt'), 'not audio: skipped by name, not an error');
  // the same content twice in the drop: one track
  copyFileSync(join(folder, 'clip 001.wav'), join(folder, 'copy of clip 001.wav'));
  pool = new SidecarPool('probe', 1, { env: pythonEnvironment(), args: ['--no-devices'] });
});

afterAll(async () => {
  await pool.close();
  cleanup();
});

function library(): { db: Db; tracks: TrackRepository; importer: Importer } {
  const db = openDatabase(join(dir, `library-${Math.random().toString(36).slice(2)}.sqlite`));
  migrate(db, migrations);
  const tracks = new TrackRepository(db);
  return { db, tracks, importer: new Importer(tracks, pool) };
}

const asRoot = process.getuid?.() === 0;

describe('streaming import of a folder', () => {
  it('imports in bounded batches, pulling the folder lazily, with progress and an error per bad file', async () => {
    const { db, tracks, importer } = library();
    const batches: Track[][] = [];
    const walkedAtBatch: number[] = [];
    const progress: { counts: ImportCounts; done: boolean }[] = [];
    walked.length = 0;

    const outcome = await importer.add([join(dir, 'drop')], {
      onBatch: (created) => {
        batches.push(created);
        walkedAtBatch.push(walked.length);
      },
      onProgress: (counts, done) => progress.push({ counts, done }),
    });

    // root reads a file whatever its mode: then locked.wav is one more track, not an error
    const locked = asRoot ? 0 : 1;
    expect(outcome.counts).toEqual({ seen: GOOD + 6, imported: GOOD + 1 - locked, skipped: 1, failed: 4 + locked });
    expect(tracks.list()).toHaveLength(outcome.counts.imported);
    // each bad file has its own error, naming it; the rest went in
    const byName = Object.fromEntries(outcome.errors.map((e) => [e.input.split('/').pop(), e.code]));
    expect(byName).toMatchObject({ 'noise.wav': 'NOT_AUDIO', 'empty.mp3': 'NOT_AUDIO', 'header only.wav': 'NOT_AUDIO', 'dangling.wav': 'UNREADABLE' });
    if (!asRoot) expect(byName['locked.wav']).toBe('UNREADABLE');
    expect(outcome.errors.find((e) => e.input.endsWith('noise.wav'))!.message).toMatch(/noise\.wav is not an audio file/);

    // bounded batches, every new track handed over once
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(GOOD / IMPORT_BATCH));
    for (const batch of batches) expect(batch.length).toBeLessThanOrEqual(IMPORT_BATCH);
    expect(new Set(batches.flat().map((t) => t.id)).size).toBe(outcome.counts.imported);
    // lazily pulled: when the first batch was in the library, the walk had not gone far past two batches
    expect(walkedAtBatch[0]).toBeLessThanOrEqual(2 * IMPORT_BATCH + 8);
    expect(walked.length).toBeGreaterThan(GOOD);

    // progress only grows, ends once with done and the final counts
    expect(progress.at(-1)).toEqual({ counts: outcome.counts, done: true });
    expect(progress.filter((p) => p.done)).toHaveLength(1);
    for (let i = 1; i < progress.length; i++) expect(progress[i]!.counts.seen).toBeGreaterThanOrEqual(progress[i - 1]!.counts.seen);

    // the copy is the same track as its original
    const original = tracks.list().find((t) => t.title === 'clip 001')!;
    expect(outcome.added.filter((a) => a.track.id === original.id).map((a) => a.created).sort()).toEqual([false, true]);

    // a second import of the same folder adds nothing
    const again = await importer.add([join(dir, 'drop')], { summaryOnly: true });
    expect(again.counts).toMatchObject({ imported: 0, skipped: outcome.counts.imported + 1, failed: outcome.counts.failed });
    expect(again.added).toEqual([]);
    expect(tracks.list()).toHaveLength(outcome.counts.imported);
    db.close();
  }, 120_000);

  it('walks lazily: a generator that yields before it has read the folder, and stops at the limit', async () => {
    const walk = walkAudioFiles(join(dir, 'drop'), 10);
    expect(typeof walk[Symbol.asyncIterator]).toBe('function');
    const first = await walk.next();
    expect(first.done).toBe(false);
    await walk.return(undefined); // closes the open directory handle
    const entries: WalkEntry[] = [];
    for await (const entry of walkAudioFiles(join(dir, 'drop'), 10)) entries.push(entry);
    expect(entries.filter((e) => e.kind === 'audio')).toHaveLength(10);
    expect(entries.at(-1)).toMatchObject({ kind: 'problem', message: expect.stringContaining('stopped after 10 files') });
  });

  it('keeps input order for errors, links and files mixed, and reports a folder with no audio', async () => {
    const { db, importer } = library();
    const empty = join(dir, 'nothing here');
    mkdirSync(empty, { recursive: true });
    writeFileSync(join(empty, 'readme.txt'), 'x');
    const outcome = await importer.add([join(dir, 'missing.wav'), 'https://evil.example/a', empty, join(dir, 'drop', 'clip 002.wav')]);
    expect(outcome.errors.map((e) => e.code)).toEqual(['FILE_NOT_FOUND', 'INVALID_LINK', 'NO_AUDIO']);
    expect(outcome.counts).toEqual({ seen: 4, imported: 1, skipped: 0, failed: 3 });
    db.close();
  }, 60_000);
});
