import type { Migration } from './types';

/**
 * Frozen. What a Spotify/YouTube link tells about its song, and what its download produced.
 * - spotify_id / isrc: how the same song is recognised when another album or playlist lists it
 *   again (reused, not downloaded twice); youtube_id likewise for YouTube videos.
 * - cover_url: the album art the provider reported (a URL; not downloaded).
 * - download_size: bytes of the downloaded file, set in the transaction that completes the download.
 * Not unique: two library tracks may legitimately share an ISRC (a file import and a download).
 */
export const m005LinkMetadata: Migration = {
  version: 5,
  name: 'link_metadata',
  sql: `
ALTER TABLE tracks ADD COLUMN spotify_id TEXT;
ALTER TABLE tracks ADD COLUMN youtube_id TEXT;
ALTER TABLE tracks ADD COLUMN isrc TEXT;
ALTER TABLE tracks ADD COLUMN cover_url TEXT;
ALTER TABLE tracks ADD COLUMN download_size INTEGER CHECK (download_size IS NULL OR download_size >= 0);
CREATE INDEX tracks_spotify_id ON tracks (spotify_id) WHERE spotify_id IS NOT NULL;
CREATE INDEX tracks_youtube_id ON tracks (youtube_id) WHERE youtube_id IS NOT NULL;
CREATE INDEX tracks_isrc ON tracks (isrc) WHERE isrc IS NOT NULL;
`,
};
