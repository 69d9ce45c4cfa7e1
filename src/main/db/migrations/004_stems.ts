import type { Migration } from './types';

/**
 * Frozen. Stems written by a separation job. A row exists only for a file that was completely
 * written and renamed into place, registered in the transaction that completed the job.
 * `options_key` identifies the separation settings so a re-run with the same ones is reused.
 */
export const m004Stems: Migration = {
  version: 4,
  name: 'stems',
  sql: `
CREATE TABLE stems (
  id           INTEGER PRIMARY KEY,
  track_id     TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
  job_id       INTEGER,
  model        TEXT NOT NULL,
  options_key  TEXT NOT NULL,
  stem         TEXT NOT NULL,
  path         TEXT NOT NULL,
  size         INTEGER NOT NULL CHECK (size >= 0),
  duration     REAL,
  format       TEXT NOT NULL,
  device       TEXT,
  created_at   TEXT NOT NULL,
  UNIQUE (track_id, model, options_key, stem)
);
CREATE INDEX stems_track ON stems (track_id);
`,
};
