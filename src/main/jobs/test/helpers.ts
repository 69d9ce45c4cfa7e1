import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { openDatabase, type Db } from '../../db/connection';
import { migrate } from '../../db/migrate';
import { migrations } from '../../db/migrations';
import type { Scheduler } from '../scheduler';

export interface TempDb {
  db: Db;
  file: string;
  dir: string;
  close(): void;
}

/**
 * Temporary databases and the schedulers on them, stopped and removed after each test of the
 * file that calls this (once, at its top level).
 */
export function cleanedAfterEach(): { db(): TempDb; scheduler<S extends Scheduler>(s: S): S } {
  let open: TempDb[] = [];
  let schedulers: Scheduler[] = [];
  afterEach(async () => {
    for (const s of schedulers) await s.stop({ graceMs: 0 });
    for (const t of open) t.close();
    open = [];
    schedulers = [];
  });
  return {
    db() {
      const t = tempDb();
      open.push(t);
      return t;
    },
    scheduler(s) {
      schedulers.push(s);
      return s;
    },
  };
}

/** A migrated file database at the durability we ship (WAL + synchronous NORMAL). */
export function tempDb(): TempDb {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-jobs-'));
  const file = join(dir, 'jobs.db');
  const db = openDatabase(file);
  migrate(db, migrations);
  return {
    db,
    file,
    dir,
    close() {
      try {
        db.close();
      } catch {
        /* already closed */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function fakeClock(start = Date.UTC(2026, 0, 1)) {
  let t = start;
  return {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
    set(ms: number) {
      t = ms;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Poll until `fn` is truthy (for real-time tests); fails with `what` after `timeoutMs`. */
export async function until<T>(fn: () => T, what: string, timeoutMs = 5000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}
