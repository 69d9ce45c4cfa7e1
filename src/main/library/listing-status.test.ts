import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { JobInfo, JobState } from '../../shared/domain';
import { STATUS_KINDS } from '../../shared/listing';
import { pipelineStatus } from '../../renderer/lib/pipeline';
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

type Case = { status?: 'ready' | 'pending' | 'failed'; analysed?: boolean; jobs?: [worker: string, state: JobState][] };
/** One track per way the status column can read (jobs listed oldest first). */
const CASES: Record<string, Case> = {
  running: { jobs: [['analyze', 'executing']] },
  queued: { jobs: [['separate', 'available']] },
  retrying: { jobs: [['analyze', 'retryable']] },
  failed: { jobs: [['analyze', 'discarded']] },
  failedThenDone: { analysed: true, jobs: [['analyze', 'discarded'], ['analyze', 'completed']] },
  trackFailed: { status: 'failed' },
  pending: { status: 'pending' },
  cancelled: { jobs: [['analyze', 'cancelled']] },
  cancelledAnalysed: { analysed: true, jobs: [['analyze', 'cancelled']] },
  doneByJob: { jobs: [['separate', 'completed']] },
  analysed: { analysed: true },
  ready: {},
};

/** The cases in a new library, or (`upgraded`) in one made before migration 11, which then ranks them. */
function library(upgraded = false) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db: Db = openDatabase(join(t.dir, 'db.sqlite'));
  cleanups.push(() => db.close());
  migrate(db, upgraded ? migrations.filter((m) => m.version < 11) : migrations);
  const tracks = new TrackRepository(db);
  const analyses = new AnalysisRepository(db);
  const ids = new Map<string, string>();
  for (const [name, c] of Object.entries(CASES)) {
    const track = tracks.insert({ title: name, artist: null, album: null, sourceKind: 'file', source: `/m/${name}`, path: null, contentHash: null, duration: 1, sampleRate: null, channels: null, codec: null, status: c.status ?? 'ready', spotifyId: null, youtubeId: null, isrc: null, coverUrl: null, downloadSize: null });
    ids.set(name, track.id);
    if (c.analysed) analyses.save(track.id, null, analysisResult({}));
    for (const [worker, state] of c.jobs ?? []) addJob(db, track.id, worker, state);
  }
  if (upgraded) migrate(db, migrations);
  return { db, tracks, analyses, ids, listing: new LibraryListing(db, tracks, new StemRepository(db)) };
}

/** A job row as the scheduler leaves it in `state` (the columns its CHECKs ask for). */
function addJob(db: Db, trackId: string, worker: string, state: JobState): number {
  const now = Date.now();
  const running = state === 'executing' || state === 'completed' || state === 'discarded';
  return Number(
    db
      .prepare(`INSERT INTO jobs (state, queue, worker, max_attempts, attempt, inserted_at, scheduled_at, attempted_at, attempted_by,
        completed_at, discarded_at, cancelled_at, track_id) VALUES (?, ?, ?, 3, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      .run(state, worker, worker, running ? 1 : 0, now, now, running ? now : null, running ? 'test' : null, state === 'completed' ? now : null, state === 'discarded' ? now : null, state === 'cancelled' ? now : null, trackId).lastInsertRowid,
  );
}

/** Each track's status kind as the renderer computes it from the jobs now in the table. */
function rendererKinds(lib: ReturnType<typeof library>): Map<string, string> {
  const rows = lib.db.prepare('SELECT id, worker, state, track_id FROM jobs').all() as { id: number; worker: string; state: JobState; track_id: string }[];
  const kinds = new Map<string, string>();
  for (const item of lib.listing.list({ limit: 1000 }).tracks) {
    const jobs = rows.filter((r) => r.track_id === item.id).sort((a, b) => b.id - a.id).map((r) => ({ id: r.id, worker: r.worker, state: r.state, trackId: r.track_id, progress: null, errors: [] }) as unknown as JobInfo);
    kinds.set(item.id, pipelineStatus(item, jobs).kind);
  }
  return kinds;
}

function expectSortedByStatus(lib: ReturnType<typeof library>): string[] {
  const kinds = rendererKinds(lib);
  for (const dir of [1, -1] as const) {
    const order = lib.listing.list({ sort: { key: 'status', dir }, limit: 1000 }).tracks.map((t) => STATUS_KINDS.indexOf(kinds.get(t.id) as never));
    expect(order).toEqual([...order].sort((a, b) => (a - b) * dir));
  }
  return lib.listing.list({ sort: { key: 'status', dir: 1 }, limit: 1000 }).tracks.map((t) => t.title);
}

describe('sort by status', () => {
  it('orders tracks by the status the renderer shows, computed from their jobs', () => {
    const lib = library();
    const kinds = rendererKinds(lib);
    expect(new Set(kinds.values())).toEqual(new Set(STATUS_KINDS.filter((k) => k !== 'missing')));
    const titles = expectSortedByStatus(lib);
    expect(titles[0]).toBe('running');
    expect(titles.at(-1)).toBe('ready');
  });

  it('ranks the tracks of a library made before the rank was stored (migration 11)', () => {
    const titles = expectSortedByStatus(library(true));
    expect(titles[0]).toBe('running');
    expect(titles.at(-1)).toBe('ready');
  });

  it('follows job changes at once (nothing stored goes stale)', () => {
    const lib = library();
    const id = lib.ids.get('ready')!;
    const job = addJob(lib.db, id, 'analyze', 'executing');
    expect(expectSortedByStatus(lib).slice(0, 2).sort()).toEqual(['ready', 'running']);
    lib.db.prepare("UPDATE jobs SET state = 'completed', completed_at = ? WHERE id = ?").run(Date.now(), job);
    lib.analyses.save(id, job, analysisResult({}));
    expect(expectSortedByStatus(lib).slice(0, 1)).toEqual(['running']);
    lib.tracks.setStatus(lib.ids.get('analysed')!, 'failed', 'gone');
    expect(rendererKinds(lib).get(lib.ids.get('analysed')!)).toBe('failed');
    expectSortedByStatus(lib);
  });
});
