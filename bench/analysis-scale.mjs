#!/usr/bin/env node
/**
 * Analysis at library scale: a batch of generated clips (SFA_BENCH_TRACKS, default 1,000, of
 * SFA_BENCH_SECONDS, default 30 s: drums at a tempo and chords in a key, each clip its own)
 * analysed through the real queue and sidecars (the engine bundled from src/, in a process of its
 * own; the clips are imported first, then `pipeline.run` with ['analyze'] and `queues.waitIdle`
 * are timed). Throughput is tracks per minute of wall time, sidecar start-up included.
 *
 * Settings compared in the same run:
 *  - chosen: the engine's default, one single-threaded analysis process per core as memory allows
 *    (src/main/workers/parallelism.ts);
 *  - old default: 2 analysis processes, each with cores / 2 threads (as before), run only where it
 *    differs from the chosen setting (it is the same on 2 cores);
 *  - SFA_BENCH_PROCESSES="1,3": more rows, N processes with cores / N threads each (1 on 2 cores
 *    is one process of 2 threads: threads instead of processes).
 * Last line: BENCH analysis-scale tracks=.. tracks_per_min=.. baseline_tracks_per_min=.. processes=.. threads=..
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wavHeader } from '../scripts/wav.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const RATE = 22_050;
const OLD_DEFAULT_PROCESSES = 2;

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], process.argv[5], Number(process.argv[6]) || null);
else await main();

async function main() {
  const tracks = Number(process.env.SFA_BENCH_TRACKS ?? 1000);
  const seconds = Number(process.env.SFA_BENCH_SECONDS ?? 30);
  const extra = (process.env.SFA_BENCH_PROCESSES ?? '').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  const cache = join(root, 'bench/.cache/analysis-scale');
  const clips = generate(join(cache, `clips-v2-${seconds}s`), tracks, seconds);
  const { bundleEngine } = await import('./engine-bundle.mjs');
  const engine = await bundleEngine(root, join(cache, 'engine'));
  const cores = availableParallelism();
  console.log(`machine: ${cores} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 1024 ** 3).toFixed(0)} GB, load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`${tracks} clips of ${seconds} s`);

  const rows = [];
  const measure = async (label, processes) => {
    const r = await run(engine, clips, tracks, processes);
    rows.push({ label, ...r });
    console.log(`${label.padEnd(14)} ${String(r.processes).padStart(2)} processes x ${r.threads} threads: ${r.completed}/${tracks} analysed in ${r.seconds.toFixed(1)} s = ${r.tracksPerMin.toFixed(1)} tracks/min`);
    return r;
  };
  const chosen = await measure('chosen', null);
  // On 2 cores the old default is the chosen setting (2 x 1): a second run of it would only measure noise.
  const coincide = chosen.processes === OLD_DEFAULT_PROCESSES && chosen.threads === Math.max(1, Math.floor(cores / OLD_DEFAULT_PROCESSES));
  const old = coincide ? chosen : await measure('old default', OLD_DEFAULT_PROCESSES);
  if (coincide) {
    console.log(`(on ${cores} cores the chosen setting is the old default, ${chosen.processes} x ${chosen.threads}: not run twice; they part from 3 cores up, e.g. 16 cores: 16 x 1 vs 2 x 8)`);
  }
  for (const n of extra) await measure(`${n} processes`, n);
  console.log(
    `BENCH analysis-scale tracks=${tracks} tracks_per_min=${chosen.tracksPerMin.toFixed(1)} baseline_tracks_per_min=${old.tracksPerMin.toFixed(1)} processes=${chosen.processes} threads=${chosen.threads}`,
  );
}

/** Clips made once: a kick and hats at a tempo, and a chord, each clip its own (distinct content). */
function generate(dir, count, seconds) {
  const marker = join(dir, `.complete-${count}`);
  if (existsSync(marker)) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const n = Math.round(seconds * RATE);
  for (let i = 0; i < count; i++) {
    const bpm = 80 + ((i * 7) % 90);
    const root = 110 * 2 ** ((i % 12) / 12);
    const chord = [1, i % 2 ? 1.1892 : 1.2599, 1.4983].map((r) => r * root);
    const beat = (60 / bpm) * RATE;
    const data = Buffer.alloc(n * 2);
    let seed = i + 1;
    for (let s = 0; s < n; s++) {
      const inBeat = s % beat;
      const t = inBeat / RATE;
      const kick = Math.sin(2 * Math.PI * 55 * t) * Math.exp(-t * 18);
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0; // imul: a float product loses the low bits, and clips 180 apart came out identical
      const hat = (s + beat / 2) % beat < RATE * 0.02 ? ((seed >>> 16) / 65_536 - 0.5) * 0.3 : 0;
      let tone = 0;
      for (const f of chord) tone += Math.sin((2 * Math.PI * f * s) / RATE);
      data.writeInt16LE(Math.round(9000 * (0.6 * kick + hat + 0.12 * tone)), s * 2);
    }
    writeFileSync(join(dir, `clip ${String(i).padStart(4, '0')}.wav`), Buffer.concat([wavHeader(RATE, data.length), data]));
  }
  writeFileSync(marker, '');
  return dir;
}

async function run(engineModule, clips, tracks, processes) {
  const { runEngineChild } = await import('./engine-bundle.mjs');
  const r = await runEngineChild(fileURLToPath(import.meta.url), engineModule, [clips, String(processes ?? '')], { root, label: 'analysis-scale' });
  if (r.completed !== tracks) console.error(`only ${r.completed} of ${tracks} analyses completed`);
  return r;
}

async function child(engineModule, home, clips, processes) {
  const { createEngine } = await import(pathToFileURL(engineModule).href);
  const logger = { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };
  const engine = await createEngine({ home, host: 'cli', logger, runQueues: true, ...(processes ? { queues: { analysis: processes } } : {}) });
  const call = async (name, params) => {
    const reply = await engine.api.handle(name, params);
    if (!reply.ok) throw new Error(`${name}: ${reply.error.code}: ${reply.error.message}`);
    return reply.result;
  };
  const added = await call('library.add', { inputs: [clips], steps: [] });
  if (added.errors.length) console.error(`${added.errors.length} import errors, first: ${JSON.stringify(added.errors[0])}`);
  const ids = new Set(added.tracks.map((t) => t.id));
  if (ids.size !== added.tracks.length) throw new Error(`${added.tracks.length - ids.size} clips are copies of others: the generator must make each clip its own`);
  const settings = await call('settings.get', {});
  const used = settings.concurrency.analysis;
  let completed = 0;
  engine.events.subscribe((event, payload) => {
    if (event === 'job:changed' && payload.job.worker === 'analyze' && payload.job.state === 'completed') completed++;
  });
  const started = performance.now();
  await call('pipeline.run', { ids: [...ids], steps: ['analyze'] });
  await call('queues.waitIdle', {});
  const seconds = (performance.now() - started) / 1000;
  await engine.close();
  process.stdout.write(
    `${JSON.stringify({ processes: used, threads: Math.max(1, Math.floor(availableParallelism() / used)), completed, seconds, tracksPerMin: completed / (seconds / 60) })}\n`,
  );
}
