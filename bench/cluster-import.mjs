#!/usr/bin/env node
/**
 * `sfa run --cluster ADDRESS --until-idle FOLDER` over 100,000 files (`npm run bench -- cluster-import`).
 *
 * A folder of 1,000 subfolders of 100 small WAVs (1.1 s of 8 kHz mono, 17.6 kB: analysis needs 1 s; each its own tone and its
 * index in its first samples: the importer deduplicates by content hash, so every file must
 * differ), generated once into bench/.cache/cluster-import. A real loopback Ray cluster (head + 2
 * worker nodes of 1 CPU, token auth: `python -m sfa_sidecar.cluster.local up`, as the tests start
 * it). The built CLI (`bin/sfa.mjs` running `out/main/cli.js`: `npx electron-vite build`) on a fresh library home whose
 * settings are what a user would choose in Settings for such a batch: the built-in `dsp`
 * separator (the demucs models cannot be downloaded here), cluster concurrency 1 separation + 1
 * analysis with 1 thread (the two worker nodes' 2 CPUs).
 *
 * Measured: the time until every file is imported and its jobs enqueued (the CLI's "import done"
 * progress line), the CLI process's resident memory sampled from /proc every 0.5 s (peak while the
 * first 10,000 files were imported vs the peak over all of them: bounded memory means about the
 * same), the per-queue progress lines it streamed (every 5 s), and the jobs completed on the
 * cluster until the end of a fixed window after the import (SFA_BENCH_WINDOW_S, default 120 s).
 * Processing 200,000 jobs on 2 shared cores would take days, so the run stops there: SIGINT, as a
 * user's Ctrl+C, and the CLI hands the running jobs back and prints its summary.
 * SFA_BENCH_FILES makes the folder smaller for a quick run (a multiple of 100).
 * Last line: BENCH cluster-import files=.. import_s=.. files_per_s=.. rss_10k_mb=.. peak_rss_mb=.. ...
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { wavHeader } from '../scripts/wav.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.SFA_PYTHON ?? join(root, 'python', '.venv', 'bin', 'python');
const PER_FOLDER = 100;
const RATE = 8000;
/** 1.1 s: the analysis refuses audio under 1 s (TOO_SHORT). */
const SAMPLES = Math.round(RATE * 1.1);
const TOKEN = 'sfa-bench-cluster-import-token';
const FIRST = 10_000;
const PROGRESS_EVERY_S = 5;

async function main() {
  const files = Number(process.env.SFA_BENCH_FILES ?? 100_000);
  const windowS = Number(process.env.SFA_BENCH_WINDOW_S ?? 120);
  const cli = join(root, 'bin', 'sfa.mjs');
  if (!existsSync(join(root, 'out', 'main', 'cli.js'))) throw new Error('the CLI is not built: run `npx electron-vite build` first');
  const cache = join(root, 'bench', '.cache', 'cluster-import');
  const folder = join(cache, 'clips');
  const made = performance.now();
  generate(folder, files);
  console.log(`machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`folder: ${files} files of 1.1 s (8 kHz mono), ready in ${((performance.now() - made) / 1000).toFixed(0)} s`);

  const work = mkdtempSync(join(tmpdir(), 'sfa-bench-cimport-'));
  const rayDir = join(work, 'ray');
  const local = (...args) => {
    const out = execFileSync(python, ['-m', 'sfa_sidecar.cluster.local', ...args, '--dir', rayDir], { cwd: join(root, 'python'), encoding: 'utf8', timeout: 600_000 });
    return JSON.parse(out.trim().split('\n').at(-1));
  };
  try {
    const started = performance.now();
    const cluster = local('up', '--workers', '2', '--cpus', '1', '--token', TOKEN);
    console.log(`cluster: head ${cluster.address} + ${cluster.workers.length} worker nodes (1 CPU each), up in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    const home = join(work, 'home');
    execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--settings', home, cluster.address], { cwd: root, stdio: 'inherit', env: { ...process.env, SFA_APP_ROOT: root } });
    const run = await runCli(cli, home, cluster.address, folder, files, windowS);
    report(run, files, windowS);
    // why jobs failed, if any did (`sfa jobs` lists the latest failures)
    const jobs = execFileSync(process.execPath, [cli, '--home', home, 'jobs', '--state', 'discarded'], { cwd: root, encoding: 'utf8', env: { ...process.env, SFA_APP_ROOT: root } });
    const recent = jobs.indexOf('recent failures:');
    if (recent >= 0) console.log(jobs.slice(recent).split('\n').slice(0, 4).join('\n'));
  } finally {
    try {
      local('down');
    } catch (error) {
      console.error(`cluster down failed: ${error.message}`);
    }
    rmSync(work, { recursive: true, force: true });
  }
}

/** Every file distinct (its index in its first two samples), 100 to a folder: made once. */
function generate(dir, count) {
  const marker = join(dir, `.complete-${count}-${SAMPLES}`);
  if (existsSync(marker)) return;
  rmSync(dir, { recursive: true, force: true });
  const header = wavHeader(RATE, SAMPLES * 2);
  for (let i = 0; i < count; i++) {
    const sub = join(dir, `box ${String(Math.floor(i / PER_FOLDER)).padStart(4, '0')}`);
    if (i % PER_FOLDER === 0) mkdirSync(sub, { recursive: true });
    const data = Buffer.alloc(SAMPLES * 2);
    const freq = 110 + (i % 3000) * 0.5;
    for (let n = 0; n < SAMPLES; n++) data.writeInt16LE(Math.round(6000 * Math.sin((2 * Math.PI * freq * n) / RATE)), n * 2);
    data.writeInt16LE(i & 0x7fff, 0);
    data.writeInt16LE(i >> 15, 2);
    writeFileSync(join(sub, `track ${String(i).padStart(6, '0')}.wav`), Buffer.concat([header, data]));
  }
  writeFileSync(marker, '');
}

/** The settings a user picks for this batch, through the contract, in an engine of its own. */
async function applySettings(home, address) {
  const { bundleEngine } = await import('./engine-bundle.mjs');
  const engineModule = await bundleEngine(root, join(root, 'bench', '.cache', 'cluster-import', 'engine'));
  const { createEngine } = await import(pathToFileURL(engineModule).href);
  const logger = { debug() {}, info() {}, warn() {}, error: (m) => console.error(m) };
  const engine = await createEngine({ home, host: 'cli', logger });
  const reply = await engine.api.handle('settings.set', { defaultModel: 'dsp', cluster: { threads: 1, concurrency: { processing: 1, analysis: 1 } } });
  await engine.close();
  if (!reply.ok) throw new Error(`settings.set: ${reply.error.message}`);
  console.log(`settings: model dsp, cluster concurrency 1 + 1, threads 1 (address ${address} given by --cluster)`);
}

const rssMb = (pid) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
};

const PROGRESS = /^progress {2}(.*)$/;
const IMPORT = /import (running|done): (\d+) files: (\d+) imported, (\d+) already in the library, (\d+) failed/;

function runCli(cli, home, address, folder, files, windowS) {
  const t0 = performance.now();
  const seconds = () => (performance.now() - t0) / 1000;
  const child = spawn(process.execPath, [cli, '--home', home, 'run', '--cluster', address, '--until-idle', '--progress-every', String(PROGRESS_EVERY_S), folder], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SFA_APP_ROOT: root, SFA_RAY_TOKEN: TOKEN },
  });
  const run = { lines: [], importS: null, seen: 0, rss10k: 0, peakRss: 0, rssAtImportEnd: null, stdout: '', code: null, imported: null, lastLine: '' };
  const sampler = setInterval(() => {
    const mb = rssMb(child.pid);
    if (mb === null) return;
    run.peakRss = Math.max(run.peakRss, mb);
    if (run.seen < FIRST) run.rss10k = Math.max(run.rss10k, mb);
  }, 500);
  let stopTimer = null;
  // Stopping the benchmark (SIGTERM/SIGINT) stops the CLI as Ctrl+C would: the partial figures are still reported.
  const stopEarly = () => child.kill('SIGINT');
  process.once('SIGTERM', stopEarly);
  process.once('SIGINT', stopEarly);
  let buffered = '';
  child.stdout.on('data', (d) => (run.stdout += d));
  child.stderr.on('data', (d) => {
    buffered += d;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) {
      const p = PROGRESS.exec(line);
      if (!p) {
        if (line.trim()) console.log(`  [cli] ${line.slice(0, 300)}`);
        continue;
      }
      run.lines.push({ t: seconds(), text: p[1] });
      run.lastLine = p[1];
      console.log(`  ${seconds().toFixed(0).padStart(5)} s  rss ${(rssMb(child.pid) ?? 0).toFixed(0)} MB  ${p[1]}`);
      const imp = IMPORT.exec(p[1]);
      if (imp) {
        run.seen = Number(imp[2]);
        run.imported = { seen: Number(imp[2]), imported: Number(imp[3]), skipped: Number(imp[4]), failed: Number(imp[5]) };
        if (imp[1] === 'done' && run.importS === null) {
          run.importS = seconds();
          run.rssAtImportEnd = rssMb(child.pid);
          console.log(`import done after ${run.importS.toFixed(0)} s: processing window of ${windowS} s starts`);
          stopTimer = setTimeout(() => child.kill('SIGINT'), windowS * 1000);
        }
      }
    }
  });
  return new Promise((resolveRun) => {
    child.on('exit', (code) => {
      clearInterval(sampler);
      clearTimeout(stopTimer);
      process.off('SIGTERM', stopEarly);
      process.off('SIGINT', stopEarly);
      run.code = code;
      run.totalS = seconds();
      resolveRun(run);
    });
  });
}

/** "processing 12 completed, 1 running, ..." -> {processing: {completed: 12, ...}} from a progress line. */
function queueCounts(text) {
  const out = {};
  for (const part of text.split('  |  ')) {
    const m = /^(\w+) (\d+) completed, (\d+) running, (\d+) waiting, (\d+) failed, (\d+) cancelled$/.exec(part);
    if (m) out[m[1]] = { completed: Number(m[2]), running: Number(m[3]), waiting: Number(m[4]), failed: Number(m[5]), cancelled: Number(m[6]) };
  }
  return out;
}

function report(run, files, windowS) {
  console.log(`cli exit ${run.code} after ${run.totalS.toFixed(0)} s; its summary:\n${run.stdout.trim().split('\n').map((l) => `  ${l}`).join('\n')}`);
  const queues = queueCounts(run.lastLine);
  const done = Object.fromEntries(Object.entries(queues).map(([q, c]) => [q, c.completed]));
  const failed = Object.values(queues).reduce((n, c) => n + c.failed, 0);
  const importS = run.importS;
  console.log(`progress lines streamed: ${run.lines.length} (every ${PROGRESS_EVERY_S} s)`);
  console.log(`import: ${run.imported ? JSON.stringify(run.imported) : 'no import line'} in ${importS?.toFixed(0) ?? 'n/a (not finished)'} s`);
  console.log(`resident memory of the CLI: peak ${run.peakRss.toFixed(0)} MB over the run; ${run.rss10k.toFixed(0)} MB peak while the first ${FIRST} files were imported; ${run.rssAtImportEnd?.toFixed(0) ?? 'n/a'} MB when the import ended`);
  console.log(`jobs completed on the cluster by the end (import + ${windowS} s window): ${JSON.stringify(done)}; failed ${failed}`);
  const rate = importS ? files / importS : null;
  console.log(
    `BENCH cluster-import files=${run.imported?.seen ?? 0} imported=${run.imported?.imported ?? 0} import_s=${importS?.toFixed(0) ?? 'na'} files_per_s=${rate?.toFixed(1) ?? 'na'}` +
      ` rss_10k_mb=${run.rss10k.toFixed(0)} peak_rss_mb=${run.peakRss.toFixed(0)} progress_lines=${run.lines.length} window_s=${windowS}` +
      ` separations_done=${done.processing ?? 0} analyses_done=${done.analysis ?? 0} jobs_failed=${failed} exit=${run.code}`,
  );
  if (!importS) process.exitCode = 1;
}

if (process.argv[2] === '--settings') await applySettings(process.argv[3], process.argv[4]);
else await main();
