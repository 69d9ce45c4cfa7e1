/**
 * Which file a media URL names, for every host (`sfa serve`'s `/media/<trackId>/<stem|source>`,
 * Electron's `app://sfa/media/...`, the desktop drag-out and reveal). Only files registered in
 * the library are ever served: the track's own file (`source`) or a stem of its newest stem set,
 * looked up by id, and a stem only while it lies (links resolved) inside the library's stems
 * folder. A URL can never carry a path. Also the HTTP Range parsing the hosts share.
 */
import { statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { TrackDetail } from '../../shared/domain';
import { SOURCE, isStemName, isTrackId } from '../../shared/patterns';
import { isInsideRealPath } from '../security/static-files';
import { safeFileName } from '../../shared/filenames';

export interface MediaFile {
  path: string;
  /** A download name: "<title> - <stem>.<ext>". */
  filename: string;
  contentType: string;
}

const AUDIO_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.m4a': 'audio/mp4',
  '.aac': 'audio/aac',
  '.aif': 'audio/aiff',
  '.aiff': 'audio/aiff',
  '.webm': 'audio/webm',
};

/** `/media/<trackId>/<which>` -> its parts, or null for anything else. */
export function parseMediaPath(pathname: string): { trackId: string; which: string } | null {
  const m = /^\/media\/([^/]+)\/([^/]+)$/.exec(pathname);
  if (!m) return null;
  let trackId: string, which: string;
  try {
    trackId = decodeURIComponent(m[1]!);
    which = decodeURIComponent(m[2]!);
  } catch {
    return null;
  }
  return isTrackId(trackId) && (which === SOURCE || isStemName(which)) ? { trackId, which } : null;
}

const safeName = (text: string) => safeFileName(text, 'track');

/** The registered file for (track, which), or null; `detail` is the engine's `trackDetail`. */
export function resolveMedia(detail: (id: string) => TrackDetail, trackId: string, which: string): MediaFile | null {
  let track: TrackDetail;
  try {
    track = detail(trackId);
  } catch {
    return null;
  }
  const path = which === 'source' ? track.path : (track.stems?.[which] ?? null);
  if (!path) return null;
  const ext = extname(path).toLowerCase();
  const filename = which === 'source' ? basename(path) : `${safeName(track.title)} - ${which}${ext}`;
  return { path, filename, contentType: AUDIO_TYPES[ext] ?? 'application/octet-stream' };
}

/** A registered file that exists now, with its size: what `Engine.media` returns. */
export interface MediaEntry extends MediaFile {
  size: number;
}

/**
 * The engine's one media lookup (`Engine.media`): (trackId, stem | 'source') from an untrusted
 * caller -> the registered file, or null. Checks, in order: the names' shapes; the track and its
 * newest stem set; a stem's real path (links followed) inside `stemsDir`; a regular file on disk.
 */
export function mediaLookup(detail: (id: string) => TrackDetail, stemsDir: string): (trackId: unknown, which: unknown) => MediaEntry | null {
  return (trackId, which) => {
    if (!isTrackId(trackId) || typeof which !== 'string' || (which !== SOURCE && !isStemName(which))) return null;
    const file = resolveMedia(detail, trackId, which);
    if (!file) return null;
    if (which !== SOURCE && !isInsideRealPath(stemsDir, file.path)) return null;
    try {
      const info = statSync(file.path);
      return info.isFile() ? { ...file, size: info.size } : null;
    } catch {
      return null;
    }
  };
}

export type ByteRange = { start: number; end: number };

/**
 * A `Range: bytes=...` header against a file of `size` bytes: null when absent or not a single
 * byte range (serve the whole file), 'unsatisfiable' for a range outside the file (416).
 */
export function parseRange(header: string | null | undefined, size: number): ByteRange | 'unsatisfiable' | null {
  if (!header) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number, end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return 'unsatisfiable';
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start >= size || start > end) return 'unsatisfiable';
  return { start, end };
}

/** The headers for a media response (whole file or one range). */
export function mediaHeaders(file: MediaFile, size: number, range: ByteRange | null, download: boolean): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': file.contentType,
    'Accept-Ranges': 'bytes',
    'Content-Length': String(range ? range.end - range.start + 1 : size),
    'Cache-Control': 'no-cache',
  };
  if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
  if (download) {
    const ascii = file.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
    headers['Content-Disposition'] = `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`;
  }
  return headers;
}
