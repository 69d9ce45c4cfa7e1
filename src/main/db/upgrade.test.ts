/**
 * Data safety across upgrades: a database created at every earlier schema version, holding rows,
 * migrates forward to the latest with its rows intact and `integrity_check` ok; the engine backs
 * the database up before migrating it and keeps the newest backups.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/fixtures';
import { createEngineForTests } from '../test/engine';
import { silentLogger } from '../log';
import { openDatabase, type Db } from './connection';
import { migrate } from './migrate';
import { migrations } from './migrations';
import { KEEP_BACKUPS, backupBeforeMigrate, pendingMigrations } from './safety';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

function home(): string {
  const t = tempDir('sfa-upgrade-');
  cleanups.push(t.cleanup);
  return join(t.dir, 'home');
}

const hasTable = (db: Db, name: string) => !!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name);

/**
 * Rows written with only the columns that exist when their table is created, as the app of that
 * version would have written them. Keyed by table; applied for every table present.
 */
const SEEDS: Record<string, (db: Db) => void> = {
  tracks: (db) => {
    const insert = db.prepare(
      `INSERT INTO tracks (id, title, artist, source_kind, source, path, content_hash, duration, sample_rate, channels, codec, added_at, status)
       VALUES (?, ?, 'Artist', 'file', ?, ?, ?, 180.5, 44100, 2, 'mp3', '2025-01-01T00:00:00.000Z', 'ready')`,
    );
    for (let i = 0; i < 3; i++) insert.run(`t${i}`, `Title ${i} ünï <b>`, `/music/${i}.mp3`, `/music/${i}.mp3`, `hash${i}`);
    db.prepare(`INSERT INTO tracks (id, title, source_kind, source, added_at, status) VALUES ('l0', 'link', 'spotify', 'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', '2025-01-01T00:00:00.000Z', 'pending')`).run();
  },
  jobs: (db) => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    db.prepare(
      `INSERT INTO jobs (state, queue, worker, args, attempt, max_attempts, priority, inserted_at, scheduled_at, completed_at, track_id)
       VALUES ('completed', 'analysis', 'analyze', '{"trackId":"t0"}', 1, 3, 2, ?, ?, ?, 't0')`,
    ).run(now, now, now + 1000);
    db.prepare(
      `INSERT INTO jobs (state, queue, worker, args, attempt, max_attempts, priority, inserted_at, scheduled_at, track_id)
       VALUES ('available', 'processing', 'separate', '{"trackId":"t1","model":"dsp"}', 0, 3, 2, ?, ?, 't1')`,
    ).run(now, now);
  },
  analysis_results: (db) => {
    db.prepare(
      `INSERT INTO analysis_results (track_id, job_id, source, tempo, key, result, created_at)
       VALUES ('t0', 1, 'mix', 124.0, 'A minor', '{"tempo":{"bpm":124},"key":{"key":"A minor"}}', '2025-01-01T00:00:01.000Z')`,
    ).run();
  },
  stems: (db) => {
    const insert = db.prepare(
      `INSERT INTO stems (track_id, job_id, model, options_key, stem, path, size, duration, format, device, created_at)
       VALUES ('t1', 2, 'dsp', 'k', ?, ?, 100, 180.5, 'wav', 'cpu', '2025-01-01T00:00:02.000Z')`,
    );
    for (const stem of ['vocals', 'drums', 'bass', 'other']) insert.run(stem, `/home/media/stems/t1/dsp-k/${stem}.wav`);
  },
};

const counts = (db: Db) =>
  Object.fromEntries(Object.keys(SEEDS).filter((t) => hasTable(db, t)).map((t) => [t, (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]));

describe('upgrades from every earlier schema version', () => {
  for (let version = 1; version < migrations.length; version++) {
    it(`schema ${version} -> ${migrations.length}: rows survive, integrity ok, a backup at ${version} is made, the engine opens it`, async () => {
      const h = home();
      const { mkdirSync } = await import('node:fs');
      mkdirSync(h, { recursive: true });
      const file = join(h, 'library.sqlite');
      const old = openDatabase(file);
      migrate(old, migrations.slice(0, version));
      for (const [table, seed] of Object.entries(SEEDS)) if (hasTable(old, table)) seed(old);
      const before = counts(old);
      old.close();

      const engine = await createEngineForTests({ home: h, host: 'cli', logger: silentLogger });
      try {
        expect(pendingMigrations(engine.db, migrations)).toEqual([]);
        expect(engine.db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(engine.db.pragma('foreign_key_check')).toEqual([]);
        const after = counts(engine.db);
        for (const [table, n] of Object.entries(before)) expect(after[table], table).toBe(n);
        // The repositories read the upgraded rows.
        expect(engine.tracks.get('t0')).toMatchObject({ title: 'Title 0 ünï <b>', artist: 'Artist', duration: 180.5, status: 'ready' });
        if (before.analysis_results) expect(engine.analyses.current('t0')?.result).toMatchObject({ tempo: { bpm: 124 } });
        if (before.stems) expect(engine.stems.forTrack('t1')).toHaveLength(4);
        if (before.jobs) expect(engine.scheduler.listJobs({}).map((j) => j.state).sort()).toEqual(['available', 'completed']);
      } finally {
        await engine.close();
      }
      // The backup holds the database as it was, at its old schema version.
      const backups = readdirSync(join(h, 'backups'));
      expect(backups).toEqual([expect.stringMatching(new RegExp(`^library-${version}-\\d{8}T\\d{6}Z\\.sqlite$`))]);
      const copy = new Database(join(h, 'backups', backups[0]!), { readonly: true });
      try {
        expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(counts(copy)).toEqual(before);
        expect((copy.prepare('SELECT max(version) AS v FROM schema_migrations').get() as { v: number }).v).toBe(version);
      } finally {
        copy.close();
      }
    }, 30_000);
  }

  it('no backup for a new database or one already at the latest schema; the newest 5 are kept', async () => {
    const h = home();
    const engine = await createEngineForTests({ home: h, host: 'cli', logger: silentLogger });
    await engine.close();
    expect(existsSync(join(h, 'backups'))).toBe(false);
    const again = await createEngineForTests({ home: h, host: 'cli', logger: silentLogger });
    await again.close();
    expect(existsSync(join(h, 'backups'))).toBe(false);

    const t = tempDir('sfa-backups-');
    cleanups.push(t.cleanup);
    const db = openDatabase(join(t.dir, 'db.sqlite'));
    migrate(db, migrations.slice(0, 1));
    SEEDS.tracks!(db);
    const dir = join(t.dir, 'backups');
    for (let i = 0; i < KEEP_BACKUPS + 3; i++) {
      expect(await backupBeforeMigrate(db, migrations, dir, KEEP_BACKUPS, new Date(Date.UTC(2025, 0, 1, 0, 0, i)))).toMatch(/library-1-/);
    }
    const kept = readdirSync(dir).sort();
    expect(kept).toHaveLength(KEEP_BACKUPS);
    expect(kept[0]).toBe('library-1-20250101T000003Z.sqlite');
    expect(kept.some((n) => n.endsWith('.part'))).toBe(false);
    db.close();
  });
});
