#!/usr/bin/env node
// Stand-in for yt-dlp (see common.mjs): --newline progress through --progress-template,
// `--print after_move:...` lines, `-J --flat-playlist` for playlists, exit 1 on download errors
// and 2 on bad options. Like yt-dlp >= 2025.11.12, a video download without a usable JavaScript
// runtime (`--js-runtimes deno:PATH` naming an existing file; scenario "no-js-runtime": one that
// does not work) warns and then fails with "Requested format is not available".
import { existsSync } from 'node:fs';
import { delay, hang, hasJsRuntime, logStart, scenarioFor, writeAudio } from './common.mjs';

logStart('yt-dlp');
const argv = process.argv.slice(2);
if (argv[0] === '--version') {
  console.log('2026.10.26');
  process.exit(0);
}
const WITH_VALUE = new Set(['--progress-template', '--audio-format', '--audio-quality', '--ffmpeg-location', '-o', '--cache-dir']);
const FLAGS = new Set(['--newline', '--progress', '-x', '--ignore-config', '--no-playlist', '--flat-playlist', '-J']);
const opts = {};
const prints = [];
const jsRuntimes = [];
const positionals = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') {
    positionals.push(...argv.slice(i + 1));
    break;
  }
  if (a === '--print') prints.push(argv[++i]);
  else if (a === '--js-runtimes') jsRuntimes.push(argv[++i]);
  else if (WITH_VALUE.has(a)) opts[a] = argv[++i];
  else if (FLAGS.has(a)) opts[a] = true;
  else if (a.startsWith('-')) {
    console.error('Usage: yt-dlp [OPTIONS] URL [URL...]\n');
    console.error(`yt-dlp: error: no such option: ${a}`);
    process.exit(2);
  } else positionals.push(a);
}
const url = positionals[0] ?? '';
const video = /^https:\/\/www\.youtube\.com\/watch\?v=([A-Za-z0-9_-]{11})$/.exec(url);
const list = /^https:\/\/www\.youtube\.com\/playlist\?list=([A-Za-z0-9_-]{10,64})$/.exec(url);
if (!video && !list) {
  console.error(`ERROR: [generic] '${url}' is not a valid URL`);
  process.exit(1);
}
const id = video ? video[1] : list[1];
const scenario = scenarioFor(id);
const mode = typeof scenario === 'string' ? scenario : 'ok';

const info = (vid, i = 1) => ({ id: vid, title: `Video ${i}`, uploader: 'Stand-in Channel', channel: 'Stand-in Channel', duration: 2, thumbnail: `https://i.ytimg.com/vi/${vid}/maxresdefault.jpg` });

async function main() {
  if (mode === 'error') {
    console.log(`[youtube] Extracting URL: ${url}`);
    console.error(`ERROR: [youtube] ${id}: Video unavailable. This video is not available`);
    process.exit(1);
  }
  if (mode === 'stall') {
    hang(() => {});
    return;
  }
  if (list) {
    const entries = scenario && typeof scenario === 'object' && Array.isArray(scenario.entries) ? scenario.entries : [1, 2, 3].map((i) => ({ _type: "url", ie_key: "Youtube", ...info(`v${i}${id.slice(0, 9)}`, i), url: `https://www.youtube.com/watch?v=v${i}${id.slice(0, 9)}` }));
    console.log(JSON.stringify({ _type: 'playlist', id, title: 'Stand-in playlist', entries }));
    process.exit(0);
  }
  if (mode === 'no-js-runtime' || !hasJsRuntime(jsRuntimes)) {
    console.log(`[youtube] Extracting URL: ${url}`);
    console.error(
      'WARNING: [youtube] No supported JavaScript runtime could be found. Only deno is enabled by default; to use another runtime add  --js-runtimes RUNTIME[:PATH]  to your command/config. YouTube extraction without a JS runtime has been deprecated, and some formats may be missing. See  https://github.com/yt-dlp/yt-dlp/wiki/EJS  for details on installing one',
    );
    console.error(`ERROR: [youtube] ${id}: Requested format is not available. Use --list-formats for a list of available formats`);
    process.exit(1);
  }
  if (!opts['--ffmpeg-location'] || !existsSync(opts['--ffmpeg-location'])) {
    console.error('ERROR: Postprocessing: ffmpeg not found. Please install or provide the path using --ffmpeg-location');
    process.exit(1);
  }
  const ext = opts['--audio-format'] ?? 'mp3';
  const out = (opts['-o'] ?? '%(title)s [%(id)s].%(ext)s').replace('%(ext)s', ext);
  const template = (opts['--progress-template'] ?? '').replace(/^download:/, '');
  console.log(`[youtube] Extracting URL: ${url}`);
  console.log(`[youtube] ${id}: Downloading webpage`);
  console.log('[info] Downloading 1 format(s): 251');
  const total = 3_000_000;
  for (const done of [0, 750_000, 1_500_000, 3_000_000]) {
    console.log(
      template
        .replace('%(progress.downloaded_bytes)s', String(done))
        .replace('%(progress.total_bytes)s', done === 0 ? 'NA' : String(total))
        .replace('%(progress.total_bytes_estimate)s', String(total)),
    );
    await delay();
  }
  if (mode === 'cancel') {
    hang(() => process.exit(1));
    return;
  }
  console.log(`[ExtractAudio] Destination: ${out}`);
  writeAudio(out);
  for (const p of prints) {
    const body = p.replace(/^after_move:/, '');
    if (body === 'filepath') console.log(out);
    else console.log(body.replace(/%\(\.\{[^}]*\}\)j/, JSON.stringify(info(id))));
  }
  process.exit(0);
}
void main();
