import type { Migration } from './types';

/**
 * Frozen. What a file's tags held before we first wrote BPM/key/energy into them, so that
 * "restore tags" puts the user's own values back. One row per track: `previous` is the JSON map
 * of the fields we changed to their raw values before our first write (null: the field was
 * absent); a later write keeps it and only updates `written`/`written_at`. `path` is the file we
 * wrote, `format` its tag family (id3, vorbis, mp4).
 */
export const m007TagBackups: Migration = {
  version: 7,
  name: 'tag_backups',
  sql: `
CREATE TABLE tag_backups (
  track_id   TEXT PRIMARY KEY REFERENCES tracks (id) ON DELETE CASCADE,
  path       TEXT NOT NULL,
  format     TEXT NOT NULL,
  previous   TEXT NOT NULL,
  written    TEXT NOT NULL,
  written_at TEXT NOT NULL
);
`,
};
