import { randomUUID } from 'node:crypto';
import type { SourceKind } from '../../shared/domain';
import type { Db } from '../db/connection';

/**
 * SQL for tracks that come from links (migration 005's columns). Every function takes the
 * connection it runs on, so the download and expand workers call them inside the transaction
 * that completes their job (`ctx.onComplete(tx => ...)` with `tx.db`).
 */

/** What a provider (spotdl `save`, yt-dlp `-J`) tells about one song. */
export interface SongMetadata {
  kind: Exclude<SourceKind, 'file'>;
  /** The canonical track/video URL (src/shared/links.ts). */
  url: string;
  title: string;
  artists: string[];
  album: string | null;
  /** Seconds. */
  duration: number | null;
  spotifyId: string | null;
  youtubeId: string | null;
  isrc: string | null;
  coverUrl: string | null;
}

/** The library track that already holds this song: same URL, same Spotify/YouTube id, or same ISRC. */
export function findSameSong(db: Db, song: Pick<SongMetadata, 'url' | 'spotifyId' | 'youtubeId' | 'isrc'>): { id: string; status: string } | undefined {
  const bySource = db.prepare("SELECT id, status FROM tracks WHERE source = ? AND source_kind <> 'file'").get(song.url);
  if (bySource) return bySource as { id: string; status: string };
  if (song.spotifyId) {
    const row = db.prepare('SELECT id, status FROM tracks WHERE spotify_id = ? ORDER BY added_at LIMIT 1').get(song.spotifyId);
    if (row) return row as { id: string; status: string };
  }
  if (song.youtubeId) {
    const row = db.prepare('SELECT id, status FROM tracks WHERE youtube_id = ? ORDER BY added_at LIMIT 1').get(song.youtubeId);
    if (row) return row as { id: string; status: string };
  }
  if (song.isrc) {
    // A failed download does not count: a new one (maybe from another provider id) may work.
    const row = db.prepare("SELECT id, status FROM tracks WHERE isrc = ? AND status <> 'failed' ORDER BY added_at LIMIT 1").get(song.isrc);
    if (row) return row as { id: string; status: string };
  }
  return undefined;
}

/** A pending track for one song of an expanded album/playlist. Returns its id. */
export function insertLinkTrack(db: Db, song: SongMetadata): string {
  const id = randomUUID();
  db.prepare(
    `INSERT INTO tracks (id, title, artist, album, source_kind, source, path, content_hash, duration, sample_rate, channels, codec,
       added_at, status, error, spotify_id, youtube_id, isrc, cover_url)
     VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, NULL, NULL, NULL, ?, 'pending', NULL, ?, ?, ?, ?)`,
  ).run(id, song.title, song.artists.join(', ') || null, song.album, song.kind, song.url, song.duration, new Date().toISOString(), song.spotifyId, song.youtubeId, song.isrc, song.coverUrl);
  return id;
}

/** The album/playlist placeholder is replaced by its songs once expanded. */
export function deleteTrack(db: Db, id: string): void {
  db.prepare('DELETE FROM tracks WHERE id = ?').run(id);
}

export interface DownloadedAudio {
  path: string;
  size: number;
  duration: number | null;
  sampleRate: number | null;
  channels: number | null;
  codec: string | null;
}

/**
 * The download is in place: the track becomes `ready` with its file, probe and metadata.
 * Metadata the provider did not report keeps what the track already had (from expansion).
 */
export function completeDownload(db: Db, trackId: string, audio: DownloadedAudio, meta: Partial<SongMetadata>): void {
  db.prepare(
    `UPDATE tracks SET path = @path, download_size = @size, duration = coalesce(@duration, duration), sample_rate = @sampleRate,
       channels = @channels, codec = @codec, status = 'ready', error = NULL,
       title = coalesce(@title, title), artist = coalesce(@artist, artist), album = coalesce(@album, album),
       spotify_id = coalesce(@spotifyId, spotify_id), youtube_id = coalesce(@youtubeId, youtube_id),
       isrc = coalesce(@isrc, isrc), cover_url = coalesce(@coverUrl, cover_url)
     WHERE id = @id`,
  ).run({
    id: trackId,
    path: audio.path,
    size: audio.size,
    duration: audio.duration,
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    codec: audio.codec,
    title: meta.title || null,
    artist: meta.artists?.length ? meta.artists.join(', ') : null,
    album: meta.album ?? null,
    spotifyId: meta.spotifyId ?? null,
    youtubeId: meta.youtubeId ?? null,
    isrc: meta.isrc ?? null,
    coverUrl: meta.coverUrl ?? null,
  });
}
