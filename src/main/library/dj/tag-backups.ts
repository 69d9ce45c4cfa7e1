import type { Db } from '../../db/connection';

/** A field's raw value in a file's tags: its strings, or null when the field was absent. */
export type RawTagValues = Record<string, string[] | null>;

export interface TagBackup {
  trackId: string;
  path: string;
  format: string;
  previous: RawTagValues;
  written: RawTagValues;
  writtenAt: string;
}

interface Row {
  track_id: string;
  path: string;
  format: string;
  previous: string;
  written: string;
  written_at: string;
}

/** tag_backups (migration 007): the values our first write replaced, kept until a restore. */
export class TagBackupRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      get: db.prepare('SELECT * FROM tag_backups WHERE track_id = ?'),
      put: db.prepare(`INSERT INTO tag_backups (track_id, path, format, previous, written, written_at) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (track_id) DO UPDATE SET path = excluded.path, format = excluded.format, previous = excluded.previous,
          written = excluded.written, written_at = excluded.written_at`),
      remove: db.prepare('DELETE FROM tag_backups WHERE track_id = ?'),
    };
  }

  get(trackId: string): TagBackup | null {
    const row = this.stmts.get.get(trackId) as Row | undefined;
    if (!row) return null;
    return {
      trackId: row.track_id,
      path: row.path,
      format: row.format,
      previous: JSON.parse(row.previous) as RawTagValues,
      written: JSON.parse(row.written) as RawTagValues,
      writtenAt: row.written_at,
    };
  }

  /**
   * Record a write. The user's own values survive repeated writes: a field already backed up
   * keeps its first value (what the file held before we ever touched it), a newly touched field
   * adds its previous value. A different path (the file was re-imported elsewhere) starts over.
   */
  recordWrite(trackId: string, path: string, format: string, previous: RawTagValues, written: RawTagValues): void {
    const old = this.get(trackId);
    const kept = old && old.path === path ? { ...previous, ...old.previous } : previous;
    this.stmts.put.run(trackId, path, format, JSON.stringify(kept), JSON.stringify(written), new Date().toISOString());
  }

  remove(trackId: string): void {
    this.stmts.remove.run(trackId);
  }
}
