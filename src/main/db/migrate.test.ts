import { afterEach, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from '../../test/fixtures';
import { openDatabase } from './connection';
import { migrate } from './migrate';
import { migrations } from './migrations';

const dirs: (() => void)[] = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));

function freshDb() {
  const t = tempDir();
  dirs.push(t.cleanup);
  return openDatabase(join(t.dir, 'db.sqlite'));
}

describe('migrate', () => {
  it('applies every migration once, in order, and is a no-op the second time', () => {
    const db = freshDb();
    expect(migrate(db, migrations).applied).toEqual(migrations.map((m) => m.version));
    expect(migrate(db, migrations).applied).toEqual([]);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('refuses a database whose applied migration was edited afterwards (migrations are frozen)', () => {
    const db = freshDb();
    migrate(db, migrations);
    const edited = migrations.map((m, i) => (i === 0 ? { ...m, sql: `${m.sql}\nCREATE TABLE sneaky (x);` } : m));
    expect(() => migrate(db, edited)).toThrow(/frozen/);
  });

  it('refuses a database written by a newer build', () => {
    const db = freshDb();
    migrate(db, migrations);
    db.prepare("INSERT INTO schema_migrations VALUES (999, 'future', 'x', 'now')").run();
    expect(() => migrate(db, migrations)).toThrow(/newer version/);
  });

  it('rolls back a failing migration completely', () => {
    const db = freshDb();
    const broken = [...migrations, { version: migrations.length + 1, name: 'broken', sql: 'CREATE TABLE ok_part (x); SELECT * FROM missing_table;' }];
    expect(() => migrate(db, broken)).toThrow();
    expect(db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'ok_part'").get()).toEqual({ n: 0 });
    expect(migrate(db, migrations).applied).toEqual([]);
  });
});
