import { randomUUID } from 'node:crypto';
import type { SourceKind, Track, TrackStatus } from '../../shared/domain';
import { immediate, type Db } from '../db/connection';

interface TrackRow {
  id: string;
  title: string;
  artist: string | null;
  album: string | null;
  source_kind: SourceKind;
  source: string;
  path: string | null;
  content_hash: string | null;
  duration: number | null;
  sample_rate: number | null;
  channels: number | null;
  codec: string | null;
  added_at: string;
  status: TrackStatus;
  error: string | null;
  spotify_id?: string | null;
  youtube_id?: string | null;
  isrc?: string | null;
  cover_url?: string | null;
  download_size?: number | null;
}

function fromRow(r: TrackRow): Track {
  return {
    id: r.id,
    title: r.title,
    artist: r.artist,
    album: r.album,
    sourceKind: r.source_kind,
    source: r.source,
    path: r.path,
    contentHash: r.content_hash,
    duration: r.duration,
    sampleRate: r.sample_rate,
    channels: r.channels,
    codec: r.codec,
    addedAt: r.added_at,
    status: r.status,
    error: r.error,
    spotifyId: r.spotify_id ?? null,
    youtubeId: r.youtube_id ?? null,
    isrc: r.isrc ?? null,
    coverUrl: r.cover_url ?? null,
    downloadSize: r.download_size ?? null,
  };
}

export type NewTrack = Omit<Track, 'id' | 'addedAt' | 'error'> & { error?: string | null };

/** The tracks table: plain, synchronous SQL with prepared statements. */
export class TrackRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      insert: db.prepare(`INSERT INTO tracks (id, title, artist, album, source_kind, source, path, content_hash,
        duration, sample_rate, channels, codec, added_at, status, error)
        VALUES (@id, @title, @artist, @album, @sourceKind, @source, @path, @contentHash, @duration, @sampleRate,
        @channels, @codec, @addedAt, @status, @error)`),
      get: db.prepare('SELECT * FROM tracks WHERE id = ?'),
      getMany: db.prepare('SELECT * FROM tracks WHERE id IN (SELECT value FROM json_each(?))'),
      byHash: db.prepare('SELECT * FROM tracks WHERE content_hash = ?'),
      bySource: db.prepare("SELECT * FROM tracks WHERE source = ? AND source_kind <> 'file'"),
      list: db.prepare('SELECT * FROM tracks ORDER BY added_at DESC, rowid DESC'),
      setStatus: db.prepare('UPDATE tracks SET status = ?, error = ? WHERE id = ?'),
    };
  }

  insert(track: NewTrack): Track {
    const row = { ...track, id: randomUUID(), addedAt: new Date().toISOString(), error: track.error ?? null };
    this.stmts.insert.run(row);
    return this.get(row.id)!;
  }

  /**
   * Files found by an import, in one transaction (one disk sync for a whole batch): a file whose
   * content is already in the library is not inserted; that track comes back with `created: false`.
   */
  insertFiles(files: NewTrack[]): { track: Track; created: boolean }[] {
    return immediate(this.db, () =>
      files.map((file) => {
        const existing = file.contentHash ? this.findByHash(file.contentHash) : undefined;
        return existing ? { track: existing, created: false } : { track: this.insert(file), created: true };
      }),
    );
  }

  get(id: string): Track | undefined {
    const row = this.stmts.get.get(id) as TrackRow | undefined;
    return row && fromRow(row);
  }

  /** The tracks that exist among `ids`, in no particular order (one query for a page of the table). */
  getMany(ids: readonly string[]): Track[] {
    return (this.stmts.getMany.all(JSON.stringify(ids)) as TrackRow[]).map(fromRow);
  }

  findByHash(hash: string): Track | undefined {
    const row = this.stmts.byHash.get(hash) as TrackRow | undefined;
    return row && fromRow(row);
  }

  findByLink(canonical: string): Track | undefined {
    const row = this.stmts.bySource.get(canonical) as TrackRow | undefined;
    return row && fromRow(row);
  }

  list(): Track[] {
    return (this.stmts.list.all() as TrackRow[]).map(fromRow);
  }

  setStatus(id: string, status: TrackStatus, error: string | null = null): void {
    this.stmts.setStatus.run(status, error, id);
  }
}
