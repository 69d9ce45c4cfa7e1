import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../db/connection';
import { migrate } from '../../db/migrate';
import { migrations } from '../../db/migrations';

export interface TempDb {
  db: Db;
  file: string;
  dir: string;
  close(): void;
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
