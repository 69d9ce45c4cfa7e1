import type { Migration } from './types';

/**
 * Frozen once shipped. The library search matches what the table shows as substrings (each word
 * anywhere in the title, artist, album, Camelot code or key name, case-insensitive: "ight" finds
 * "Midnight", "8a" finds 8A, "minor" finds A minor), which 008's word-prefix FTS index cannot.
 * `library_search` is an FTS5 trigram index over one text per track (rowid = the track's rowid),
 * kept in step by triggers on `tracks` and on 008's `track_summary` (itself kept by triggers on
 * `analysis_results`), so every write path updates it in the write's own transaction. Words of
 * one or two characters, shorter than a trigram, are matched by scanning the same text.
 */
const HAYSTACK = `t.title || char(10) || coalesce(t.artist, '') || char(10) || coalesce(t.album, '') || char(10) ||
    coalesce(s.camelot, '') || char(10) || coalesce(s.key, '')`;
const FOR_TRACK = (id: string) => `(SELECT ${HAYSTACK} FROM tracks t LEFT JOIN track_summary s ON s.track_id = t.id WHERE t.id = ${id})`;

export const m010LibrarySearch: Migration = {
  version: 10,
  name: 'library_search',
  sql: `
CREATE VIRTUAL TABLE library_search USING fts5(text, tokenize = 'trigram');
INSERT INTO library_search (rowid, text) SELECT t.rowid, ${HAYSTACK} FROM tracks t LEFT JOIN track_summary s ON s.track_id = t.id;
CREATE TRIGGER library_search_track_insert AFTER INSERT ON tracks BEGIN
  INSERT INTO library_search (rowid, text) VALUES (new.rowid, ${FOR_TRACK('new.id')});
END;
CREATE TRIGGER library_search_track_update AFTER UPDATE OF title, artist, album ON tracks BEGIN
  UPDATE library_search SET text = ${FOR_TRACK('new.id')} WHERE rowid = new.rowid;
END;
CREATE TRIGGER library_search_track_delete AFTER DELETE ON tracks BEGIN
  DELETE FROM library_search WHERE rowid = old.rowid;
END;
CREATE TRIGGER library_search_summary_insert AFTER INSERT ON track_summary BEGIN
  UPDATE library_search SET text = ${FOR_TRACK('new.track_id')} WHERE rowid = (SELECT rowid FROM tracks WHERE id = new.track_id);
END;
CREATE TRIGGER library_search_summary_delete AFTER DELETE ON track_summary BEGIN
  UPDATE library_search SET text = ${FOR_TRACK('old.track_id')} WHERE rowid = (SELECT rowid FROM tracks WHERE id = old.track_id);
END;
`,
};
