#!/usr/bin/env node
/**
 * Import benchmark: one drop of 10,000 small files (a folder of 100 subfolders of 100 WAVs, each
 * 0.5 s of its own tone, generated once into bench/.cache/import) through `library.add`, in an
 * engine process of its own (the engine bundled from src/, as the app runs it, steps [] so that
 * only the import is measured). Figures per run: total time, files/s, the engine process's peak
 * RSS (getrusage maxRSS: the Python probe sidecar is a process of its own, not counted), and the
 * longest event-loop stall while importing (bench/block-probe.mjs: wall, from
 * perf_hooks.monitorEventLoopDelay and timer drift, and its on-CPU part; on a loaded machine the
 * wall figure is mostly time the OS did not run the process).
 * A second import of the same folder (every file already in the library) is timed too.
 *
 * Peer: the previous import (list the whole folder, then hash and probe each file with one ffmpeg
 * run per file) from commit BASELINE, bundled the same way and run on a part of the same files
 * (SFA_BENCH_BASELINE_FILES, default 2,000: it runs at a fraction of the speed), in the same run.
 * SFA_BENCH_FILES makes the drop smaller for a quick run.
 * Last line: BENCH import files=.. seconds=.. files_per_s=.. peak_rss_mb=.. max_stall_ms=.. max_block_ms=..
 *            baseline_files=.. baseline_files_per_s=.. speedup=..
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { blockProbe } from './block-probe.mjs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wavHeader } from '../scripts/wav.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The last commit whose import listed a folder first and probed file by file. */
const BASELINE = 'ce0d524';
const PER_FOLDER = 100;

if (process.argv[2] === '--child') await child(process.argv[3], process.argv[4], JSON.parse(process.argv[5]));
else await main();

async function main() {
  const files = Number(process.env.SFA_BENCH_FILES ?? 10_000);
  const baselineFiles = Math.min(files, Number(process.env.SFA_BENCH_BASELINE_FILES ?? 2_000));
  const cache = join(root, 'bench/.cache/import');
  const clips = join(cache, 'clips');
  const folders = generate(clips, files);
  const { bundleEngine, bundleEngineAt } = await import('./engine-bundle.mjs');
  const current = await bundleEngine(root, join(cache, 'current'));
  const baseline = baselineFiles > 0 ? await bundleEngineAt(root, BASELINE, join(cache, 'baseline')) : null;
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

  const ours = await run(current, [clips]);
  console.log(`streaming import:   ${ours.count} files in ${ours.seconds.toFixed(1)} s = ${(ours.count / ours.seconds).toFixed(1)} files/s, peak RSS ${ours.peakRssMb.toFixed(0)} MB, longest stall ${ours.maxStallMs.toFixed(0)} ms wall (p99 ${ours.p99StallMs.toFixed(0)} ms), ${ours.maxBlockMs.toFixed(0)} ms on CPU; again (all known): ${ours.againSeconds.toFixed(1)} s`);
  let peer = null;
  if (baseline) {
    peer = await run(baseline, folders.slice(0, Math.ceil(baselineFiles / PER_FOLDER)));
    console.log(`previous import:    ${peer.count} files in ${peer.seconds.toFixed(1)} s = ${(peer.count / peer.seconds).toFixed(1)} files/s, peak RSS ${peer.peakRssMb.toFixed(0)} MB, longest stall ${peer.maxStallMs.toFixed(0)} ms wall (p99 ${peer.p99StallMs.toFixed(0)} ms), ${peer.maxBlockMs.toFixed(0)} ms on CPU [commit ${BASELINE}]`);
  } else console.log(`previous import: not measured (commit ${BASELINE} not in this checkout, or SFA_BENCH_BASELINE_FILES=0)`);

  const rate = ours.count / ours.seconds;
  const peerRate = peer ? peer.count / peer.seconds : null;
  if (peerRate) console.log(`speed-up (files/s, ours / previous): ${(rate / peerRate).toFixed(2)}x`);
  console.log(
    `BENCH import files=${ours.count} seconds=${ours.seconds.toFixed(1)} files_per_s=${rate.toFixed(1)} peak_rss_mb=${ours.peakRssMb.toFixed(0)} max_stall_ms=${ours.maxStallMs.toFixed(0)} max_block_ms=${ours.maxBlockMs.toFixed(0)}` +
      ` baseline_files=${peer?.count ?? 0} baseline_files_per_s=${peerRate?.toFixed(1) ?? 'na'} speedup=${peerRate ? (rate / peerRate).toFixed(2) : 'na'}`,
  );
}

/** `count` WAVs, 0.5 s of 22,050 Hz mono each, every one its own tone (distinct content): made once. */
function generate(dir, count) {
  const folders = [];
  for (let f = 0; f * PER_FOLDER < count; f++) folders.push(join(dir, `album ${String(f).padStart(3, '0')}`));
  const marker = join(dir, `.complete-${count}`);
  if (existsSync(marker)) return folders;
  rmSync(dir, { recursive: true, force: true });
  const rate = 22_050;
  const samples = rate / 2;
  for (let i = 0; i < count; i++) {
    const folder = folders[Math.floor(i / PER_FOLDER)];
    if (i % PER_FOLDER === 0) mkdirSync(folder, { recursive: true });
    const data = Buffer.alloc(samples * 2);
    const freq = 110 + i * 0.37;
    for (let n = 0; n < samples; n++) data.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * freq * n) / rate)), n * 2);
    writeFileSync(join(folder, `track ${String(i).padStart(5, '0')}.wav`), Buffer.concat([wavHeader(rate, data.length), data]));
  }
  writeFileSync(marker, '');
  return folders;
}

/** One import in an engine process of its own (fresh library); its figures come back as JSON. */
async function run(engineModule, inputs) {
  const { runEngineChild } = await import('./engine-bundle.mjs');
  return runEngineChild(fileURLToPath(import.meta.url), engineModule, [JSON.stringify(inputs)], { root, label: 'import' });
}

async function child(engineModule, home, inputs) {
  const { createEngine } = await import(pathToFileURL(engineModule).href);
  const logger = { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };
  const engine = await createEngine({ home, host: 'cli', logger });
  const add = async () => {
    const reply = await engine.api.handle('library.add', { inputs, steps: [] });
    if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
    return reply.result;
  };
  const probe = blockProbe(5);
  const started = performance.now();
  const result = await add();
  const seconds = (performance.now() - started) / 1000;
  const stalls = probe.stop();
  const againStarted = performance.now();
  const again = await add();
  const againSeconds = (performance.now() - againStarted) / 1000;
  if (result.errors.length) console.error(`${result.errors.length} errors, first: ${JSON.stringify(result.errors[0])}`);
  if (again.tracks.length !== result.tracks.length) console.error(`the second import found ${again.tracks.length} tracks, not ${result.tracks.length}`);
  await engine.close();
  process.stdout.write(
    `${JSON.stringify({
      count: result.tracks.length,
      seconds,
      againSeconds,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      maxStallMs: stalls.maxWallMs,
      p99StallMs: stalls.p99WallMs,
      maxBlockMs: stalls.maxBlockMs,
    })}\n`,
  );
}
