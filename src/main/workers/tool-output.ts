import type { SongMetadata } from '../library/link-tracks';
import { recogniseLink } from '../../shared/links';

/**
 * What spotdl 4.6 and yt-dlp print, turned into events. Pure functions over one line of output
 * (ANSI codes already stripped), so every pattern is unit-tested against the real tools' text
 * (NOTES.md, spotdl's progress_handler.py, spotipy's util.py).
 */
export type ToolEvent =
  | { type: 'progress'; percent: number; message: string }
  /** spotipy: "Your application has reached a rate/request limit. Retry will occur after: N s". */
  | { type: 'rate-limit'; retryAfter: number }
  /** A song failed although the tool goes on (spotdl exits 0 after it). `permanent`: no retry helps. */
  | { type: 'song-error'; message: string; permanent: boolean }
  /** yt-dlp `--print after_move:filepath`. */
  | { type: 'file'; path: string }
  /** yt-dlp `--print after_move:[sfa-meta] %(...)j`. */
  | { type: 'meta'; data: Record<string, unknown> }
  | { type: 'error-line'; message: string };

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007]*\u0007/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '');
}

/** spotdl --simple-tui: `Artist - Title: <status>` (progress_handler.py SongTracker.update). */
const SPOTDL_STATUS: Record<string, number> = {
  'Processing': 5,
  'Getting lyrics': 5,
  'Searching for song': 10,
  'Getting audio meta': 25,
  'Downloading': 40,
  'Converting': 75,
  'Embedding metadata': 90,
  'Done': 100,
  'Skipped': 100,
};

const RATE_LIMIT = /Retry will occur after:\s*(\d+)/;
const TRACEBACK_ERROR = /^([A-Za-z_][\w.]*(?:Error|Exception|Exit)):\s*(.*)$/;

export function parseSpotdlLine(raw: string): ToolEvent | null {
  const line = stripAnsi(raw).trim();
  if (!line) return null;
  const rate = RATE_LIMIT.exec(line);
  if (rate) return { type: 'rate-limit', retryAfter: Number(rate[1]) };
  // progress_handler.notify_error: logger.error("%s: %s", exception class name, exception)
  if (/^LookupError: No results found for song:/.test(line)) return { type: 'song-error', message: line, permanent: true };
  if (/^(AudioProviderError|SongError|DownloaderError|ConversionError|FFmpegError|MetadataError|LookupError|KeyError|ValueError|TypeError|OSError|PermissionError|FileNotFoundError|TimeoutError):/.test(line)) {
    return { type: 'song-error', message: line, permanent: false };
  }
  const status = /^(.+): (Processing|Getting lyrics|Searching for song|Getting audio meta|Downloading|Converting|Embedding metadata|Done|Skipped|Error)$/.exec(line);
  if (status) {
    const word = status[2]!;
    if (word === 'Error') return { type: 'error-line', message: `${status[1]}: download error` };
    return { type: 'progress', percent: SPOTDL_STATUS[word] ?? 0, message: `${word.toLowerCase()}: ${status[1]}` };
  }
  if (/blocked by YouTube Music/i.test(line)) return { type: 'error-line', message: line };
  const tb = TRACEBACK_ERROR.exec(line);
  if (tb) return { type: 'error-line', message: line };
  return null;
}

/** The progress template our yt-dlp call uses (see ytDlpArgs): `[sfa-progress] done total estimate`. */
export const YTDLP_PROGRESS_TEMPLATE = 'download:[sfa-progress] %(progress.downloaded_bytes)s %(progress.total_bytes)s %(progress.total_bytes_estimate)s';
export const YTDLP_META_TEMPLATE = 'after_move:[sfa-meta] %(.{id,title,uploader,channel,artist,album,duration,thumbnail})j';

export function parseYtDlpLine(raw: string): ToolEvent | null {
  const line = stripAnsi(raw).trim();
  if (!line) return null;
  const progress = /^\[sfa-progress\] (\S+) (\S+) (\S+)$/.exec(line);
  if (progress) {
    const done = Number(progress[1]);
    const total = Number(progress[2]) || Number(progress[3]);
    if (!Number.isFinite(done) || !total) return { type: 'progress', percent: 0, message: 'downloading' };
    return { type: 'progress', percent: Math.max(0, Math.min(100, (done / total) * 100)), message: 'downloading' };
  }
  if (line.startsWith('[sfa-meta] ')) {
    try {
      const data = JSON.parse(line.slice('[sfa-meta] '.length)) as unknown;
      if (data && typeof data === 'object' && !Array.isArray(data)) return { type: 'meta', data: data as Record<string, unknown> };
    } catch {
      /* not ours */
    }
    return null;
  }
  if (/^\[ExtractAudio\]/.test(line)) return { type: 'progress', percent: 100, message: 'converting' };
  if (/^ERROR:/.test(line)) return { type: 'error-line', message: line.replace(/^ERROR:\s*/, '') };
  if (RATE_LIMIT.test(line)) return { type: 'rate-limit', retryAfter: Number(RATE_LIMIT.exec(line)![1]) };
  // --print after_move:filepath prints the bare absolute path of the final file.
  if (/^(\/|[A-Za-z]:\\)/.test(line) && /\.(mp3|m4a|opus|ogg|wav|flac|webm|aac)$/i.test(line)) return { type: 'file', path: line };
  return null;
}

/** The last line that explains a failure (a traceback's final `XError: message`, or yt-dlp's ERROR:). */
export function failureSummary(lines: string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = stripAnsi(lines[i]!).trim();
    if (TRACEBACK_ERROR.test(line) || /^ERROR:/.test(line)) return line.replace(/^ERROR:\s*/, '');
  }
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = stripAnsi(lines[i]!).trim();
    // Skip rich's traceback frame art.
    if (line && !/^[│╭╰─❱ ]/.test(line)) return line;
  }
  return null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : null;
}

/**
 * spotdl's song list (`spotdl save`, or `--save-file` beside `download`): a JSON array of
 * `Song.json` (spotdl/types/song.py, a dataclass asdict: name, artists, album_name, duration in
 * seconds, song_id, isrc, cover_url, url ...). Songs without a valid Spotify id are dropped.
 */
export function parseSpotdlSongs(text: string): SongMetadata[] {
  const start = text.indexOf('[');
  if (start < 0) throw new Error('no song list in the output');
  const raw = JSON.parse(text.slice(start)) as unknown;
  if (!Array.isArray(raw)) throw new Error('the song list is not a JSON array');
  const songs: SongMetadata[] = [];
  for (const item of raw) {
    if (!item || typeof item !== 'object') continue;
    const s = item as Record<string, unknown>;
    const id = str(s.song_id);
    const link = id ? recogniseLink(`spotify:track:${id}`) : null;
    if (!link?.ok) continue;
    const artists = Array.isArray(s.artists) ? s.artists.filter((a): a is string => typeof a === 'string' && a.trim() !== '') : [];
    songs.push({
      kind: 'spotify',
      url: link.canonical,
      title: str(s.name) ?? link.canonical,
      artists: artists.length ? artists : [str(s.artist)].filter((a): a is string => a !== null),
      album: str(s.album_name),
      duration: num(s.duration),
      spotifyId: link.id,
      youtubeId: null,
      isrc: str(s.isrc)?.toUpperCase() ?? null,
      coverUrl: str(s.cover_url),
    });
  }
  return songs;
}

/** A yt-dlp info dict (the `[sfa-meta]` line, or one entry of `--flat-playlist -J`). */
export function youtubeSong(data: Record<string, unknown>): SongMetadata | null {
  const id = str(data.id);
  const link = id ? recogniseLink(`https://www.youtube.com/watch?v=${id}`) : null;
  if (!link?.ok) return null;
  const artist = str(data.artist) ?? str(data.channel) ?? str(data.uploader);
  const thumbs = Array.isArray(data.thumbnails) ? (data.thumbnails as { url?: unknown }[]) : [];
  return {
    kind: 'youtube',
    url: link.canonical,
    title: str(data.title) ?? link.canonical,
    artists: artist ? [artist] : [],
    album: str(data.album),
    duration: num(data.duration),
    spotifyId: null,
    youtubeId: link.id,
    isrc: null,
    coverUrl: str(data.thumbnail) ?? str(thumbs[thumbs.length - 1]?.url),
  };
}

/** `yt-dlp --flat-playlist -J`: one JSON object whose `entries` are the videos. */
export function parseYtDlpPlaylist(text: string): SongMetadata[] {
  const start = text.indexOf('{');
  if (start < 0) throw new Error('no playlist JSON in the output');
  const raw = JSON.parse(text.slice(start)) as { entries?: unknown };
  if (!Array.isArray(raw.entries)) throw new Error('the playlist JSON has no entries');
  return raw.entries.flatMap((e) => (e && typeof e === 'object' ? [youtubeSong(e as Record<string, unknown>)] : [])).filter((s): s is SongMetadata => s !== null);
}
