import { describe, expect, it } from 'vitest';
import { failureSummary, parseSpotdlLine, parseSpotdlSongs, parseYtDlpLine, parseYtDlpPlaylist } from './tool-output';
import { spotdlDownloadArgs, ytDlpDownloadArgs } from './download';

describe('spotdl 4.6 output', () => {
  it('reads --simple-tui status lines as progress', () => {
    expect(parseSpotdlLine('Daft Punk - One More Time: Searching for song')).toEqual({ type: 'progress', percent: 10, message: 'searching for song: Daft Punk - One More Time' });
    expect(parseSpotdlLine('Daft Punk - One More Time: Downloading')).toMatchObject({ type: 'progress', percent: 40 });
    expect(parseSpotdlLine('\u001b[32mA, B - Title: with colon: Embedding metadata\u001b[0m')).toMatchObject({ type: 'progress', percent: 90 });
    expect(parseSpotdlLine('A - T: Done')).toMatchObject({ type: 'progress', percent: 100 });
    expect(parseSpotdlLine('A - T: Skipped')).toMatchObject({ type: 'progress', percent: 100 });
    expect(parseSpotdlLine('1/1 complete')).toBeNull();
    expect(parseSpotdlLine('Downloaded "A - T": https://music.youtube.com/watch?v=abc')).toBeNull();
  });

  it('finds per-song failures that spotdl reports with exit 0', () => {
    expect(parseSpotdlLine('LookupError: No results found for song: A - T')).toEqual({ type: 'song-error', message: 'LookupError: No results found for song: A - T', permanent: true });
    expect(parseSpotdlLine('AudioProviderError: YT-DLP download error - https://music.youtube.com/watch?v=x')).toMatchObject({ type: 'song-error', permanent: false });
  });

  it("finds spotipy's rate-limit warning (stderr) and its Retry-After", () => {
    expect(parseSpotdlLine('Your application has reached a rate/request limit. Retry will occur after: 86400 s')).toEqual({ type: 'rate-limit', retryAfter: 86400 });
  });

  it('summarises a rich traceback by its final exception line (real offline output)', () => {
    const tail = [
      '│   728 │   │   │                                                                                  │',
      '│ ❱ 729 │   │   │   raise ConnectionError(e, request=request)                                      │',
      '╰──────────────────────────────────────────────────────────────────────────────────────────────────╯',
      "ConnectionError: HTTPSConnectionPool(host='music.youtube.com', port=443): Max retries exceeded with url: /",
    ];
    expect(failureSummary(tail)).toBe("ConnectionError: HTTPSConnectionPool(host='music.youtube.com', port=443): Max retries exceeded with url: /");
    expect(failureSummary(['╰───╯', 'something went wrong'])).toBe('something went wrong');
  });

  it("reads the song list (Song.json: spotdl/types/song.py) and drops entries without a valid id", () => {
    const id = '4uLU6hMCjMI75M1A2tKUQC';
    const text = `You might be blocked by YouTube Music.\n${JSON.stringify([
      { name: 'T', artists: ['A', 'B'], artist: 'A', album_name: 'Al', duration: 215, song_id: id, isrc: 'usabc1234567', cover_url: 'https://i.scdn.co/x', url: `https://open.spotify.com/track/${id}` },
      { name: 'bad', artists: [], song_id: '../../etc', duration: 0 },
    ])}`;
    expect(parseSpotdlSongs(text)).toEqual([
      { kind: 'spotify', url: `https://open.spotify.com/track/${id}`, title: 'T', artists: ['A', 'B'], album: 'Al', duration: 215, spotifyId: id, youtubeId: null, isrc: 'USABC1234567', coverUrl: 'https://i.scdn.co/x' },
    ]);
  });

  it('puts options first, then the operation, `--` and the canonical URL (the only order spotdl accepts `--` in)', () => {
    const args = spotdlDownloadArgs('https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', '/h/media/downloads/.t.download', 't', '/ff');
    expect(args.slice(-3)).toEqual(['download', '--', 'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC']);
    expect(args).toEqual(expect.arrayContaining(['--format', 'mp3', '--bitrate', '320k', '--ffmpeg', '/ff', '--simple-tui', '--output', '/h/media/downloads/.t.download/t.{output-ext}']));
  });
});

describe('yt-dlp output', () => {
  it('reads our progress template, the printed metadata and file path, and ERROR lines', () => {
    expect(parseYtDlpLine('[sfa-progress] 750000 3000000 NA')).toEqual({ type: 'progress', percent: 25, message: 'downloading' });
    expect(parseYtDlpLine('[sfa-progress] 750000 NA 1500000')).toMatchObject({ percent: 50 });
    expect(parseYtDlpLine('[sfa-progress] 0 NA NA')).toMatchObject({ percent: 0 });
    expect(parseYtDlpLine('[sfa-meta] {"id": "dQw4w9WgXcQ", "title": "T", "duration": 212}')).toEqual({ type: 'meta', data: { id: 'dQw4w9WgXcQ', title: 'T', duration: 212 } });
    expect(parseYtDlpLine('/home/u/media/downloads/.t.download/t.mp3')).toEqual({ type: 'file', path: '/home/u/media/downloads/.t.download/t.mp3' });
    expect(parseYtDlpLine('ERROR: [youtube] x: Video unavailable')).toEqual({ type: 'error-line', message: '[youtube] x: Video unavailable' });
    expect(parseYtDlpLine('[youtube] Extracting URL: https://www.youtube.com/watch?v=dQw4w9WgXcQ')).toBeNull();
  });

  it('reads a flat playlist', () => {
    const json = JSON.stringify({ _type: 'playlist', entries: [{ id: 'dQw4w9WgXcQ', title: 'V', channel: 'C', duration: 10 }, { id: 'bad id' }] });
    expect(parseYtDlpPlaylist(json)).toEqual([
      expect.objectContaining({ kind: 'youtube', url: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ', title: 'V', artists: ['C'], youtubeId: 'dQw4w9WgXcQ' }),
    ]);
  });

  it('ends its arguments with `--` and the URL; ignores user config; writes only under the given folders', () => {
    const args = ytDlpDownloadArgs('https://www.youtube.com/watch?v=dQw4w9WgXcQ', '/h/media/downloads/.t.download', 't', '/ff', '/h/cache');
    expect(args.slice(-2)).toEqual(['--', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ']);
    expect(args).toEqual(expect.arrayContaining(['--ignore-config', '--ffmpeg-location', '/ff', '-o', '/h/media/downloads/.t.download/t.%(ext)s', '--cache-dir', '/h/cache/yt-dlp']));
  });
});
