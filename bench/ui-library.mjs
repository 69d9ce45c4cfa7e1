/**
 * The library the ui benchmarks open (bench/ui.mjs, bench/ui-scroll-probe.mjs): `n` analysed tracks
 * written straight into a fresh home's database (the schema `sfa serve` created), all pointing at
 * one second of silence; titles from a small vocabulary so a search word matches ~19% of them.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium } from '@playwright/test';
import WebSocket from 'ws';
import { findBrowser, missingBrowserMessage } from '../scripts/browser.mjs';
import { wavHeader } from '../scripts/wav.mjs';

const CAMELOT = Array.from({ length: 24 }, (_, i) => `${Math.floor(i / 2) + 1}${i % 2 ? 'B' : 'A'}`);
const WORDS = ['night', 'drive', 'sunset', 'echo', 'velvet', 'neon', 'river', 'ghost', 'pulse', 'orbit', 'golden', 'shadow', 'storm', 'city', 'dream', 'fire'];

/** One second of mono silence: the file every seeded track points at. */
function wav() {
  const data = Buffer.alloc(44_100 * 2);
  return Buffer.concat([wavHeader(44_100, data.length), data]);
}

export function seedLibrary(home, N) {
  const audio = join(home, 'one.wav');
  writeFileSync(audio, wav());
  const db = new Database(join(home, 'library.sqlite'));
  db.pragma('busy_timeout = 5000');
  const insTrack = db.prepare(`INSERT INTO tracks (id, title, artist, album, source_kind, source, path, content_hash, duration, sample_rate, channels, codec, added_at, status, error)
    VALUES (?, ?, ?, NULL, 'file', ?, ?, NULL, ?, 44100, 2, 'pcm_s16le', ?, 'ready', NULL)`);
  const insAnalysis = db.prepare(`INSERT INTO analysis_results (track_id, job_id, source, tempo, key, camelot, key_confidence, tempo_confidence, energy, loudness, duration, result, created_at)
    VALUES (?, NULL, 'mix', ?, ?, ?, ?, 0.8, ?, ?, ?, ?, ?)`);
  let seedN = 42;
  const rand = () => ((seedN = (seedN * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const pick = (a) => a[Math.floor(rand() * a.length)];
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < N; i++) {
      const id = randomUUID();
      const title = `${pick(WORDS)} ${pick(WORDS)} ${i}`.replace(/^./, (c) => c.toUpperCase());
      const artist = `${pick(WORDS)} ${pick(['collective', 'sound', 'trio', 'dj'])}`;
      const bpm = Math.round((80 + rand() * 90) * 10) / 10;
      const camelot = pick(CAMELOT);
      const duration = 120 + rand() * 300;
      const at = new Date(now - i * 1000).toISOString();
      insTrack.run(id, title, artist, audio, audio, duration, at);
      const result = { source: 'mix', tempo: { bpm, confidence: 0.8 }, key: { key: 'A minor', camelot, confidence: 0.7 }, energy: { rms_mean: rand() * 0.3, loudness_lufs: -6 - rand() * 10, level: rand() } };
      insAnalysis.run(id, bpm, 'A minor', camelot, 0.7, result.energy.rms_mean, result.energy.loudness_lufs, duration, JSON.stringify(result), at);
    }
  })();
  db.close();
}

/** The size of `sfa serve`'s log in `home` now: where `sidecarsWarm` starts reading. */
export function logSize(home) {
  try {
    return statSync(join(home, 'logs', 'cli.log')).size;
  } catch {
    return 0;
  }
}

/**
 * Resolves once `sfa serve` in `home` has warmed its Python sidecars (its log says so past byte
 * `from`), or after `timeoutMs`: the warm-up (librosa's JIT, torch's import: 7-12 s of both cores
 * here) would otherwise share the machine with the first measurements.
 */
export async function sidecarsWarm(home, from = 0, timeoutMs = 60_000) {
  const log = join(home, 'logs', 'cli.log');
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    let text = '';
    try {
      text = readFileSync(log).subarray(from).toString('utf8');
    } catch {
      // no log yet
    }
    if (/sidecars warm in \d+ ms/.test(text)) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 200));
  }
  return null;
}

/**
 * The engine's API over `sfa serve`'s WebSocket, as the page uses it (token, Origin), without a
 * browser: `request(name, params)` resolves with the reply ({ ok, result | error }).
 */
export async function apiSocket(server) {
  const base = server.url.replace(/\/$/, '');
  const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?token=${server.token}`, { headers: { Origin: base } });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiting = new Map();
  ws.on('message', (data) => {
    const m = JSON.parse(String(data));
    waiting.get(m.id)?.(m.reply);
    waiting.delete(m.id);
  });
  let id = 0;
  return {
    request: (name, params) =>
      new Promise((resolve) => {
        const my = ++id;
        waiting.set(my, resolve);
        ws.send(JSON.stringify({ id: my, name, params }));
      }),
    close: () => ws.close(),
  };
}

/**
 * Headless Chromium on `sfa serve`'s page, the way every ui benchmark measures it: 1280 x 800,
 * dark, the token traded for the cookie and the first-run note dismissed, so what is measured
 * next is the plain app. `extraArgs`: more Chromium flags. The browser is closed if the page fails.
 */
export async function openApp(server, extraArgs = []) {
  const found = findBrowser();
  if (!found) throw new Error(missingBrowserMessage());
  const browser = await chromium.launch({
    executablePath: found.executablePath,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', ...extraArgs],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(`${server.url}/?token=${server.token}`);
    await page.evaluate(() => localStorage.setItem('sfa:first-run-dismissed', '1'));
    return { browser, page };
  } catch (error) {
    await browser.close();
    throw error;
  }
}
