import type { Migration } from './types';

/** Frozen: never edit a migration that has shipped; add a new one instead. */
export const m001Tracks: Migration = {
  version: 1,
  name: 'tracks',
  sql: `
CREATE TABLE tracks (
  id            TEXT PRIMARY KEY,
  title         TEXT NOT NULL,
  artist        TEXT,
  album         TEXT,
  source_kind   TEXT NOT NULL CHECK (source_kind IN ('file', 'spotify', 'youtube')),
  source        TEXT NOT NULL,
  path          TEXT,
  content_hash  TEXT,
  duration      REAL,
  sample_rate   INTEGER,
  channels      INTEGER,
  codec         TEXT,
  added_at      TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'missing', 'failed')),
  error         TEXT
);
CREATE UNIQUE INDEX tracks_content_hash ON tracks (content_hash) WHERE content_hash IS NOT NULL;
CREATE UNIQUE INDEX tracks_link_source ON tracks (source) WHERE source_kind <> 'file';
CREATE INDEX tracks_added_at ON tracks (added_at);
`,
};
