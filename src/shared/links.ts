/**
 * Link recognition: which pasted text is a Spotify or YouTube link, and its canonical form.
 * Pure and strict: anything not recognised is rejected with a reason, before any process starts.
 * The canonical URL is the unique key for downloads.
 */

export type LinkKind = 'spotify' | 'youtube';
export type SpotifyType = 'track' | 'album' | 'playlist';

export interface RecognisedLink {
  ok: true;
  kind: LinkKind;
  /** spotify: track/album/playlist; youtube: video or playlist */
  type: SpotifyType | 'video';
  id: string;
  canonical: string;
}

export interface RejectedLink {
  ok: false;
  reason: string;
}

export type LinkResult = RecognisedLink | RejectedLink;

const MAX_LENGTH = 2048;
const SPOTIFY_ID = /^[A-Za-z0-9]{22}$/;
const YOUTUBE_ID = /^[A-Za-z0-9_-]{11}$/;
const YOUTUBE_LIST = /^[A-Za-z0-9_-]{10,64}$/;
const SPOTIFY_HOSTS = new Set(['open.spotify.com', 'play.spotify.com']);
const YOUTUBE_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com']);

function reject(reason: string): RejectedLink {
  return { ok: false, reason };
}

/** True when the text is meant as a link (so the caller reports it as one, not as a missing file). */
export function looksLikeLink(text: string): boolean {
  // A link behind leading dashes (`-https://...`, `--url=https://...`) is still meant as a link:
  // report it as a rejected link, not as a missing file.
  const t = text.trim().replace(/^-+([a-z-]*=)?/i, '');
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(t) || /^(spotify|javascript|vbscript|data|file|about|blob|mailto):/i.test(t);
}

export function recogniseLink(input: string): LinkResult {
  const text = input.trim();
  if (text.length === 0) return reject('empty link');
  if (text.length > MAX_LENGTH) return reject(`link longer than ${MAX_LENGTH} characters`);
  if (text.startsWith('-')) return reject('a link cannot start with "-"');
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f`$;|<>"'\\{}^]/.test(text)) return reject('the link contains spaces or shell characters');
  if (/[^\u0020-\u007e]/.test(text)) return reject('the link contains non-ASCII characters (look-alike hosts are refused)');

  const uri = /^spotify:(track|album|playlist):([A-Za-z0-9]+)$/.exec(text);
  if (uri) return spotify(uri[1] as SpotifyType, uri[2]!);
  if (/^spotify:/i.test(text)) return reject('only spotify:track:, spotify:album: and spotify:playlist: URIs are supported');

  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reject('not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return reject(`unsupported scheme "${url.protocol}"`);
  if (url.username || url.password) return reject('links with credentials are refused');
  if (url.port) return reject('links with a port are refused');
  const host = url.hostname.toLowerCase();

  if (SPOTIFY_HOSTS.has(host)) {
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0]?.startsWith('intl-')) parts.shift();
    if (parts[0] === 'embed') parts.shift();
    const [type, id] = parts;
    if (type !== 'track' && type !== 'album' && type !== 'playlist') {
      return reject('only Spotify track, album and playlist links are supported');
    }
    if (!id) return reject('the Spotify link has no id');
    return spotify(type, id);
  }

  if (YOUTUBE_HOSTS.has(host)) {
    const path = url.pathname;
    if (path === '/watch') return youtubeVideo(url.searchParams.get('v'));
    const shorts = /^\/(shorts|live|embed)\/([^/]+)\/?$/.exec(path);
    if (shorts) return youtubeVideo(shorts[2]!);
    if (path === '/playlist') {
      const list = url.searchParams.get('list');
      if (!list || !YOUTUBE_LIST.test(list)) return reject('the YouTube playlist link has no valid list id');
      return { ok: true, kind: 'youtube', type: 'playlist', id: list, canonical: `https://www.youtube.com/playlist?list=${list}` };
    }
    return reject('unsupported YouTube page (use a video, shorts or playlist link)');
  }
  if (host === 'youtu.be') return youtubeVideo(url.pathname.slice(1).replace(/\/$/, ''));

  return reject(`unsupported site "${host}" (Spotify and YouTube links are supported)`);
}

function spotify(type: SpotifyType, id: string): LinkResult {
  if (!SPOTIFY_ID.test(id)) return reject('the Spotify id is not valid (22 letters and digits)');
  return { ok: true, kind: 'spotify', type, id, canonical: `https://open.spotify.com/${type}/${id}` };
}

function youtubeVideo(id: string | null): LinkResult {
  if (!id || !YOUTUBE_ID.test(id)) return reject('the YouTube video id is not valid');
  return { ok: true, kind: 'youtube', type: 'video', id, canonical: `https://www.youtube.com/watch?v=${id}` };
}
