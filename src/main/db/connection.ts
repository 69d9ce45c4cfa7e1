import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * Durability: WAL with synchronous=NORMAL. A committed transaction survives a crash of the app
 * (SIGKILL, exceptions) because the WAL is written before commit returns; after a power loss or
 * an OS crash the last few transactions before the loss can be rolled back, but the database is
 * never corrupted. The job scheduler is designed for that: a job whose completion was lost is
 * rescued and re-run, so workers are idempotent (outputs are written to temp files and renamed).
 * Set `durability: 'full'` to fsync the WAL on every commit (about 2-10x slower commits).
 */
export interface OpenOptions {
  durability?: 'normal' | 'full';
  /** How long a writer waits for another connection's write lock before SQLITE_BUSY. */
  busyTimeoutMs?: number;
  readonly?: boolean;
}

let nativeBinding: string | undefined;

/**
 * The better-sqlite3 binary this process loads: under Node the one npm built (the default); the
 * unpackaged desktop app passes the Electron-ABI build (scripts/native.mjs) through
 * `EngineOptions.sqliteBinding` before anything opens a database.
 */
export function useSqliteBinding(path: string | undefined): void {
  nativeBinding = path;
}

/** Options every `new Database()` of the engine passes (the database, the home lock). */
export function sqliteOptions<T extends object>(options: T): T & { nativeBinding?: string } {
  return nativeBinding ? { ...options, nativeBinding } : options;
}

export function openDatabase(file: string, options: OpenOptions = {}): Db {
  const db = new Database(file, sqliteOptions({ readonly: options.readonly ?? false }));
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  if (!options.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
  }
  db.pragma('foreign_keys = ON');
  return db;
}

/** Run `fn` in a write transaction that takes the write lock up front (no upgrade deadlocks). */
export function immediate<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
