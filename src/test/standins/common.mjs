// Shared by the spotdl and yt-dlp stand-ins (test doubles selected with SFA_SPOTDL_BIN /
// SFA_YTDLP_BIN). They replay what the real tools print and how they exit; NOTES.md and the
// tools' sources (spotdl 4.6 progress_handler.py, spotipy util.py) are the reference.
//
// Environment:
//   SFA_STANDIN_LOG        append one JSON line {tool, argv} per start (tests assert "never spawned")
//   SFA_STANDIN_SCENARIOS  a JSON file: { "<id from the URL>": scenario | [scenario per attempt] | {songs|entries: [...]} }
//   SFA_STANDIN_SCENARIO   the scenario when the file names none (default "ok")
//   SFA_STANDIN_AUDIO      a real audio file copied to the output path on success
//   SFA_STANDIN_DELAY_MS   pause between progress lines (default 30)
import { appendFileSync, copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const delay = () => sleep(Number(process.env.SFA_STANDIN_DELAY_MS ?? 30));

export function logStart(tool) {
  if (process.env.SFA_STANDIN_LOG) appendFileSync(process.env.SFA_STANDIN_LOG, `${JSON.stringify({ tool, argv: process.argv.slice(2), pid: process.pid })}\n`);
}

/** The scenario for this id and attempt (attempts are counted per id in a file beside the scenarios). */
export function scenarioFor(id) {
  const file = process.env.SFA_STANDIN_SCENARIOS;
  let entry;
  if (file && existsSync(file)) entry = JSON.parse(readFileSync(file, 'utf8'))[id];
  entry ??= process.env.SFA_STANDIN_SCENARIO ?? 'ok';
  if (Array.isArray(entry)) {
    const counter = `${file}.${id}.count`;
    const n = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0;
    writeFileSync(counter, String(n + 1));
    entry = entry[Math.min(n, entry.length - 1)];
  }
  return entry;
}

export function writeAudio(dest) {
  const src = process.env.SFA_STANDIN_AUDIO;
  if (!src) throw new Error('SFA_STANDIN_AUDIO is not set');
  copyFileSync(src, dest);
}

/** yt-dlp's test for a JavaScript runtime: a `deno:PATH` whose file exists (split at the first colon, like yt-dlp). */
export function hasJsRuntime(values) {
  return values.some((v) => v.includes(':') && v.slice(0, v.indexOf(':')) === 'deno' && existsSync(v.slice(v.indexOf(':') + 1)));
}

/** The `--js-runtimes` values inside spotdl's `--yt-dlp-args` (split like Python's shlex; quoting as download.ts does). */
export function jsRuntimesOf(ytDlpArgs) {
  const words = [...(ytDlpArgs ?? '').matchAll(/'((?:[^']|'"'"')*)'|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replaceAll(`'"'"'`, "'") : m[2]));
  return words.flatMap((w, i) => (words[i - 1] === '--js-runtimes' ? [w] : []));
}

/** Sleep "forever" (what spotipy does on a 86400 s Retry-After); `onTerm` decides what SIGTERM does. */
export function hang(onTerm) {
  process.on('SIGTERM', onTerm);
  setInterval(() => {}, 1 << 30);
}
