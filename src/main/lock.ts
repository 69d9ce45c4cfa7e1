import Database from 'better-sqlite3';
import { SfaError } from '../shared/errors';
import { sqliteOptions } from './db/connection';

/**
 * A single-instance lock on a data folder. It is an SQLite file held in exclusive locking mode
 * inside an open write transaction: the OS releases it when the process dies, even on SIGKILL,
 * so a crash never leaves a stale lock behind, and a second process gets HOME_LOCKED at once.
 */
export class HomeLock {
  private constructor(private readonly db: Database.Database) {}

  static acquire(file: string): HomeLock {
    const db = new Database(file, sqliteOptions({ timeout: 0 }));
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT)');
      db.exec('BEGIN EXCLUSIVE');
      db.prepare('DELETE FROM holder').run();
      db.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, new Date().toISOString());
    } catch (error) {
      db.close();
      if (error instanceof Error && /locked|busy/i.test(error.message)) {
        throw new SfaError(
          'HOME_LOCKED',
          `Another Sound Forge Alchemy process is using this data folder (${file.replace(/[/\\]\.lock$/, '')}). ` +
            'Close it (or stop `sfa serve` / `sfa run`), or pass a different --home.',
        );
      }
      throw error;
    }
    return new HomeLock(db);
  }

  release(): void {
    if (!this.db.open) return;
    try {
      this.db.exec('ROLLBACK');
    } finally {
      this.db.close();
    }
  }
}
