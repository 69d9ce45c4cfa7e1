#!/usr/bin/env node
// Stand-in for spotdl 4.6 (see common.mjs). Parses arguments like spotdl's argparse does for the
// shapes we use, including its quirk: `download --opt x -- URL` is rejected (exit 2), while
// `[options] download -- URL` is accepted. Its yt-dlp needs a JavaScript runtime, given through
// `--yt-dlp-args "--js-runtimes deno:PATH"`; without one spotdl only says "YT-DLP download error".
// Scenario "ratelimit-shared": spotdl's shared Spotify app is limited for a day, the user's own
// (`--client-id/--client-secret`) is not.
import { existsSync, writeFileSync } from 'node:fs';
import { delay, hang, hasJsRuntime, jsRuntimesOf, logStart, scenarioFor, sleep, writeAudio } from './common.mjs';

logStart('spotdl');
const argv = process.argv.slice(2);
if (argv[0] === '--version') {
  console.log('4.6.0');
  process.exit(0);
}
const WITH_VALUE = new Set(['--format', '--bitrate', '--ffmpeg', '--output', '--save-file', '--cache-path', '--threads', '--log-level', '--yt-dlp-args', '--client-id', '--client-secret']);
const FLAGS = new Set(['--simple-tui', '--print-errors', '--overwrite']);
const opts = {};
const positionals = [];
let afterDashes = false;
let optionAfterOperation = false;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (afterDashes) positionals.push(a);
  else if (a === '--') {
    if (optionAfterOperation) usage(`unrecognized arguments: ${argv.slice(i).join(' ')}`);
    afterDashes = true;
  } else if (WITH_VALUE.has(a)) {
    if (positionals.length) optionAfterOperation = true;
    opts[a] = argv[++i];
  } else if (FLAGS.has(a)) {
    if (positionals.length) optionAfterOperation = true;
    opts[a] = true;
  } else if (a.startsWith('-')) usage(`unrecognized arguments: ${a}`);
  else positionals.push(a);
}
const operation = ['download', 'save'].includes(positionals[0]) ? positionals.shift() : 'download';
if (positionals.length === 0) usage('the following arguments are required: query');

function usage(message) {
  console.error('usage: spotdl [-h] ... [{download,save,web,sync,meta,url}] query [query ...]');
  console.error(`spotdl: error: ${message}`);
  process.exit(2);
}

function traceback(name, message) {
  console.log('╭───────────────────── Traceback (most recent call last) ──────────────────────╮');
  console.log('│ /venv/bin/spotdl:8 in <module>                                              │');
  console.log('│ ❱ 8 │   sys.exit(console_entry_point())                                      │');
  console.log('╰──────────────────────────────────────────────────────────────────────────────╯');
  console.log(`${name}: ${message}`);
  process.exit(1);
}

if (opts['--save-file'] && !opts['--save-file'].endsWith('.spotdl') && opts['--save-file'] !== '-') {
  traceback('DownloaderError', 'Save file has to end with .spotdl');
}
if (!opts['--ffmpeg'] || !existsSync(opts['--ffmpeg'])) {
  traceback('FFmpegError', 'FFmpeg is not installed. Please run `spotdl --download-ffmpeg` to install it, or `spotdl --ffmpeg /path/to/ffmpeg` to specify the path to ffmpeg.');
}

const url = positionals[0];
const m = /^https:\/\/open\.spotify\.com\/(track|album|playlist)\/([A-Za-z0-9]{22})$/.exec(url);
if (!m) {
  // What spotdl does with free text: a search that finds nothing.
  console.log(`LookupError: No results found for song: ${url}`);
  process.exit(0);
}
const [, type, id] = m;
const scenario = scenarioFor(id);

function song(songId, i, extra = {}) {
  return {
    name: `Song ${i}`,
    artists: ['Stand-in Artist', 'Guest'],
    artist: 'Stand-in Artist',
    genres: [],
    disc_number: 1,
    disc_count: 1,
    album_name: 'Stand-in Album',
    album_artist: 'Stand-in Artist',
    duration: 2,
    year: 2024,
    date: '2024-01-01',
    track_number: i,
    tracks_count: 3,
    song_id: songId,
    explicit: false,
    publisher: 'Stand-in Records',
    url: `https://open.spotify.com/track/${songId}`,
    isrc: /^S\d/.test(songId) ? `USSFA240000${i}` : `ZZ${songId.slice(0, 10).toUpperCase()}`,
    cover_url: `https://i.scdn.co/image/cover${i}`,
    copyright_text: null,
    download_url: null,
    lyrics: null,
    popularity: 1,
    album_id: id,
    list_name: null,
    list_url: null,
    list_position: null,
    list_length: null,
    artist_id: 'artist',
    album_type: 'album',
    ...extra,
  };
}

function songsOf() {
  if (scenario && typeof scenario === 'object' && Array.isArray(scenario.songs)) return scenario.songs;
  if (type === 'track') return [song(id, /^S\d/.test(id) ? Number(id[1]) : 1)];
  return [1, 2, 3].map((i) => song(`S${i}${id.slice(2)}`, i));
}

function saveSongs(songs) {
  const file = opts['--save-file'];
  const json = JSON.stringify(songs, null, 4);
  if (file === '-') console.log(json);
  else if (file) writeFileSync(file, json);
}

const name = (s) => `${s.artists.join(', ')} - ${s.name}`;
const mode = typeof scenario === 'string' ? scenario : 'ok';

async function main() {
  const ownApp = opts['--client-id'] && opts['--client-secret'];
  if (mode === 'ratelimit' || mode === 'ratelimit-short' || (mode === 'ratelimit-shared' && !ownApp)) {
    // spotipy's Retry.increment (WARNING on the root logger's last-resort handler: stderr), then a long sleep.
    console.error(`Your application has reached a rate/request limit. Retry will occur after: ${mode === 'ratelimit-short' ? 30 : 86400} s`);
    hang(() => process.exit(0));
    return;
  }
  if (mode === 'crash') traceback('SpotifyError', "Couldn't get metadata, check if you have passed correct track id");
  if (mode === 'stall') {
    // Prints nothing, and does not even stop on SIGTERM: only SIGKILL ends it.
    hang(() => {});
    return;
  }

  if (operation === 'save') {
    const songs = songsOf();
    console.log(`Found ${songs.length} songs in Stand-in (${type === 'album' ? 'Album' : 'Playlist'})`);
    await delay();
    saveSongs(songs);
    if (opts['--save-file'] !== '-') console.log(`Saved ${songs.length} song${songs.length > 1 ? 's' : ''} to ${opts['--save-file']}`);
    process.exit(0);
  }

  const songs = songsOf();
  const s = songs[0];
  if (mode === 'cancel') {
    console.log(`${name(s)}: Searching for song`);
    await delay();
    console.log(`${name(s)}: Downloading`);
    hang(() => process.exit(0)); // spotdl exits 0 on SIGTERM
    return;
  }
  console.log(`${name(s)}: Searching for song`);
  await delay();
  if (mode === 'lookup') {
    console.log(`LookupError: No results found for song: ${name(s)}`);
    console.log('0/1 complete');
    process.exit(0);
  }
  console.log(`${name(s)}: Getting audio meta`);
  await delay();
  if (mode === 'provider' || !hasJsRuntime(jsRuntimesOf(opts['--yt-dlp-args']))) {
    console.log('AudioProviderError: YT-DLP download error - https://music.youtube.com/watch?v=abcdefghijk');
    console.log('1/1 complete');
    process.exit(0);
  }
  console.log(`${name(s)}: Downloading`);
  await sleep(Number(process.env.SFA_STANDIN_DELAY_MS ?? 30) * 3);
  const out = (opts['--output'] ?? '{artists} - {title}.{output-ext}').replace('{output-ext}', opts['--format'] ?? 'mp3');
  writeAudio(out);
  console.log(`${name(s)}: Embedding metadata`);
  await delay();
  console.log(`${name(s)}: Done`);
  console.log('1/1 complete');
  console.log(`Downloaded "${name(s)}": https://music.youtube.com/watch?v=abcdefghijk`);
  saveSongs(songs);
  process.exit(0);
}
void main();
