import type { Migration } from './types';

/**
 * Frozen once shipped. What `library.list` needs to page, sort, filter and search 100,000 tracks
 * in SQLite (src/main/library/listing-query.ts):
 * - `track_summary`: the latest analysis result's sortable fields, one row per analysed track,
 *   kept by triggers on `analysis_results` and `tracks` (no foreign key: a cascading delete of
 *   a track's results would re-insert a summary of its parent being deleted) (a join per listed row instead of a subquery and a
 *   JSON parse), with an index per sort/filter column;
 * - indexes for the sort columns of `tracks`;
 * - an FTS5 index over title, artist and album kept in step with `tracks` by triggers
 *   (better-sqlite3's SQLite is built with FTS5).
 */
export const m008LibraryIndex: Migration = {
  version: 8,
  name: 'library_index',
  sql: `
CREATE INDEX tracks_title ON tracks (title COLLATE NOCASE);
CREATE INDEX tracks_artist ON tracks (artist COLLATE NOCASE);
CREATE INDEX tracks_duration ON tracks (duration);
CREATE INDEX tracks_source_kind ON tracks (source_kind);
CREATE INDEX tracks_status ON tracks (status);
CREATE TABLE track_summary (
  track_id       TEXT PRIMARY KEY,
  source         TEXT NOT NULL,
  tempo          REAL,
  key            TEXT,
  camelot        TEXT,
  camelot_order  INTEGER,
  key_confidence REAL,
  energy         REAL,
  loudness       REAL
);
CREATE INDEX track_summary_tempo ON track_summary (tempo);
CREATE INDEX track_summary_camelot ON track_summary (camelot);
CREATE INDEX track_summary_camelot_order ON track_summary (camelot_order);
CREATE INDEX track_summary_energy ON track_summary (energy);
CREATE INDEX track_summary_loudness ON track_summary (loudness);
CREATE VIEW latest_analysis AS
  SELECT a.track_id, a.source, a.tempo, a.key, a.camelot,
    CASE WHEN a.camelot GLOB '[0-9]*[AB]' THEN CAST(substr(a.camelot, 1, length(a.camelot) - 1) AS INTEGER) * 2 - (substr(a.camelot, -1) = 'A') END AS camelot_order,
    a.key_confidence, coalesce(json_extract(a.result, '$.energy.level'), a.energy) AS energy, a.loudness
  FROM analysis_results a
  WHERE a.id = (SELECT id FROM analysis_results b WHERE b.track_id = a.track_id ORDER BY b.created_at DESC, b.id DESC LIMIT 1);
INSERT INTO track_summary SELECT * FROM latest_analysis;
CREATE TRIGGER track_summary_insert AFTER INSERT ON analysis_results BEGIN
  DELETE FROM track_summary WHERE track_id = new.track_id;
  INSERT INTO track_summary SELECT * FROM latest_analysis WHERE track_id = new.track_id;
END;
CREATE TRIGGER track_summary_update AFTER UPDATE ON analysis_results BEGIN
  DELETE FROM track_summary WHERE track_id IN (old.track_id, new.track_id);
  INSERT INTO track_summary SELECT * FROM latest_analysis WHERE track_id IN (old.track_id, new.track_id);
END;
CREATE TRIGGER track_summary_track_delete AFTER DELETE ON tracks BEGIN
  DELETE FROM track_summary WHERE track_id = old.id;
END;
CREATE TRIGGER track_summary_delete AFTER DELETE ON analysis_results BEGIN
  DELETE FROM track_summary WHERE track_id = old.track_id;
  INSERT INTO track_summary SELECT * FROM latest_analysis WHERE track_id = old.track_id;
END;
CREATE VIRTUAL TABLE tracks_fts USING fts5(
  title, artist, album, content = 'tracks', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO tracks_fts (rowid, title, artist, album) SELECT rowid, title, coalesce(artist, ''), coalesce(album, '') FROM tracks;
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
  INSERT INTO tracks_fts (rowid, title, artist, album) VALUES (new.rowid, new.title, coalesce(new.artist, ''), coalesce(new.album, ''));
END;
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
  INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album)
    VALUES ('delete', old.rowid, old.title, coalesce(old.artist, ''), coalesce(old.album, ''));
END;
CREATE TRIGGER tracks_fts_update AFTER UPDATE OF title, artist, album ON tracks BEGIN
  INSERT INTO tracks_fts (tracks_fts, rowid, title, artist, album)
    VALUES ('delete', old.rowid, old.title, coalesce(old.artist, ''), coalesce(old.album, ''));
  INSERT INTO tracks_fts (rowid, title, artist, album) VALUES (new.rowid, new.title, coalesce(new.artist, ''), coalesce(new.album, ''));
END;
`,
};
