import { createHash } from 'node:crypto';
import { SfaError } from '../../shared/errors';
import type { Db } from './connection';
import type { Migration } from './migrations/types';

function checksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 16);
}

/**
 * Apply pending migrations, each in its own transaction, and refuse to start when a migration
 * already applied to this database has since been edited (migrations are frozen) or when the
 * database is newer than this build.
 */
export function migrate(db: Db, list: readonly Migration[]): { applied: number[] } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL, applied_at TEXT NOT NULL)`);
  const done = new Map(
    (db.prepare('SELECT version, checksum FROM schema_migrations').all() as { version: number; checksum: string }[]).map(
      (r) => [r.version, r.checksum],
    ),
  );
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}`);
  });
  const newest = Math.max(0, ...done.keys());
  if (newest > list.length) {
    throw new SfaError(
      'DATABASE_TOO_NEW',
      `The library database was written by a newer version of Sound Forge Alchemy (schema ${newest}, this build knows ${list.length}). Update the app.`,
    );
  }
  const applied: number[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES (?, ?, ?, ?)');
  for (const m of list) {
    const sum = checksum(m.sql);
    const existing = done.get(m.version);
    if (existing !== undefined) {
      if (existing !== sum) {
        throw new SfaError('MIGRATION_CHANGED', `Migration ${m.version} (${m.name}) was edited after it was applied; migrations are frozen.`);
      }
      continue;
    }
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.version, m.name, sum, new Date().toISOString());
    }).immediate();
    applied.push(m.version);
  }
  return { applied };
}
