/** Results of the DJ-software requests (tags, collections, NI Stems). Pure data, no behaviour. */

/** A track left out, and why (`code` from errors.ts: NOT_FOUND, FILE_NOT_FOUND, PERMISSION_DENIED...). */
export interface Skipped {
  trackId: string;
  title: string | null;
  code: string;
  reason: string;
}

/** `tags.write` / `tags.restore`: the files changed and the tracks left out. */
export interface TagsResult {
  written: number;
  files: string[];
  skipped: Skipped[];
}

/** What a file's own tags hold now. */
export interface FileTags {
  format: 'id3' | 'vorbis' | 'mp4';
  bpm: string | null;
  key: string | null;
  comment: string | null;
  grouping: string | null;
}

/** `tags.read`: the file's tags beside our analysis; `written`: we wrote them and can restore. */
export interface TagsView {
  file: FileTags | null;
  ours: { bpm: number | null; key: string | null };
  written: boolean;
  /** Why the file's tags could not be read (missing file, unsupported format). */
  error: string | null;
}

/** `export.rekordbox|traktor|m3u`: the file written, how many tracks it holds, who was left out. */
export interface CollectionExport {
  file: string;
  written: number;
  skipped: Skipped[];
}

export type StemFileFormat = 'stem.mp4' | 'wav' | 'flac' | 'mp3';

/** `export.stemFiles`: every file written (one .stem.mp4 per track, or one file per stem). */
export interface StemFilesExport {
  dir: string;
  files: string[];
  skipped: Skipped[];
}

/** Progress of a long DJ task (`dj:progress`), a few per second at most. */
export interface DjProgress {
  task: 'tags.write' | 'tags.restore' | 'export.rekordbox' | 'export.traktor' | 'export.m3u' | 'export.stemFiles';
  done: number;
  total: number;
}
