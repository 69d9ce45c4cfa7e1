/**
 * Data safety around opening the library database: typed errors for the ways opening can fail
 * (another program's lock, a full disk, a read-only folder, a damaged file), and a backup of the
 * database before migrations change it.
 */
import { mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SfaError } from '../../shared/errors';
import type { Db } from './connection';
import type { Migration } from './migrations/types';

/** How many pre-migration backups `<home>/backups/` keeps (the newest). */
export const KEEP_BACKUPS = 5;

/** An error from opening or migrating the database at `root`, as a typed error a user can act on. */
export function databaseOpenError(error: unknown, root: string): unknown {
  if (error instanceof SfaError) return error;
  const code = String((error as { code?: unknown })?.code ?? '');
  const message = error instanceof Error ? error.message : String(error);
  if (/^SQLITE_(BUSY|LOCKED)/.test(code) || /database is locked|database table is locked/i.test(message)) {
    return new SfaError(
      'DATABASE_LOCKED',
      `The library database in ${root} is locked by another program (another Sound Forge Alchemy, \`sfa run\`, or an SQLite browser). Close it and try again.`,
      { cause: error },
    );
  }
  if (/^SQLITE_FULL/.test(code) || code === 'ENOSPC') {
    return new SfaError('DISK_FULL', `The disk holding ${root} is full: free some space and try again.`, { cause: error });
  }
  if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
    return new SfaError('PERMISSION_DENIED', `Cannot write the library database in ${root} (${message}): make the folder writable, or pass another --home.`, {
      cause: error,
    });
  }
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return new SfaError(
      'DATABASE_CORRUPT',
      `The library database in ${root} is damaged (${message}). Backups made before each upgrade are in ${join(root, 'backups')}.`,
      { cause: error },
    );
  }
  return error;
}

/** The versions in `list` that `db` has not applied yet (an empty database: all of them). */
export function pendingMigrations(db: Db, list: readonly Migration[]): number[] {
  const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").get();
  const done = new Set(table ? (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version) : []);
  return list.filter((m) => !done.has(m.version)).map((m) => m.version);
}

/**
 * Before migrations change a database that holds data, copy it (SQLite's online backup: a
 * consistent snapshot, WAL included) to `<dir>/library-<schemaVersion>-<timestamp>.sqlite`, and
 * keep the newest `keep`. Returns the backup's path, or null when nothing needed saving (a new
 * database, or no pending migration).
 */
export async function backupBeforeMigrate(db: Db, list: readonly Migration[], dir: string, keep = KEEP_BACKUPS, now = new Date()): Promise<string | null> {
  const pending = pendingMigrations(db, list);
  if (!pending.length) return null;
  const tables = db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").get() as { n: number };
  if (tables.n === 0) return null;
  const version = list.length - pending.length;
  mkdirSync(dir, { recursive: true });
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const file = join(dir, `library-${version}-${stamp}.sqlite`);
  await db.backup(`${file}.part`);
  renameSync(`${file}.part`, file);
  pruneBackups(dir, keep);
  return file;
}

/** Keep the newest `keep` backups (by the timestamp in their name, then name). */
export function pruneBackups(dir: string, keep = KEEP_BACKUPS): void {
  const stampOf = (name: string) => /-(\d{8}T\d{6}Z)\.sqlite$/.exec(name)?.[1] ?? '';
  const backups = readdirSync(dir)
    .filter((n) => /^library-\d+-\d{8}T\d{6}Z\.sqlite$/.test(n))
    .sort((a, b) => stampOf(a).localeCompare(stampOf(b)) || a.localeCompare(b));
  for (const name of backups.slice(0, Math.max(0, backups.length - keep))) rmSync(join(dir, name), { force: true });
}
