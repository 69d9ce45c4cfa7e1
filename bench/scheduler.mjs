#!/usr/bin/env node
/**
 * Job scheduler benchmark: ours (src/main/jobs, bundled with rolldown into bench/.cache) against
 * plainjob, same machine, same run, file databases in a temp dir with the same pragmas
 * (WAL + synchronous NORMAL + busy_timeout 5000: the durability we ship).
 *
 * Figures
 *  1. throughput: N no-op jobs, each inserted on its own (one transaction per insert, as the app
 *     does), claimed and completed; jobs/s = N / (first insert -> last completion).
 *  2. dispatch latency: jobs inserted one at a time into an idle queue (every ~2 ms); latency =
 *     insert call -> perform start. plainjob polls when idle.
 * plainjob is configured for throughput: its worker polls every PLAIN_POLL_MS when idle (option
 * `pollIntervall`, default 1000 ms, which would leave it sleeping through most of a short run);
 * its README's other advice for throughput, one worker process per CPU, measures something else
 * (we run one in-process scheduler) and is not used. Runs are 20,000 jobs so start-up is noise.
 *  3. longest main-thread block while 1,000 jobs flow, two ways (see blockProbe): wall-clock
 *     event-loop delay (perf_hooks.monitorEventLoopDelay + 1 ms timer drift) and the on-CPU part
 *     of each gap (what BENCH reports as max_block_ms; the wall figure is printed too): they arrive as 10 insertAll batches of 100 and
 *     run through a queue of 3 with progress reports. One insertAll of 1,000 (a whole playlist,
 *     one transaction, fresh database) is timed separately: it blocks for as long as it takes.
 * Last line: BENCH scheduler jobs=.. plainjob_poll_ms=.. ours_jobs_per_s=.. plainjob_jobs_per_s=.. throughput_ratio=..
 *            dispatch_p99_ms=.. max_block_ms=..
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { blockProbe } from './block-probe.mjs';
import { build } from 'rolldown';
import Database from 'better-sqlite3';
import { better, defineQueue, defineWorker as definePlainWorker } from 'plainjob';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_JOBS ?? 20_000);
/** plainjob's idle poll interval (ms) in every figure: short, as its option allows for throughput. */
const PLAIN_POLL_MS = Number(process.env.BENCH_PLAIN_POLL_MS ?? 5);
const LATENCY_JOBS = Number(process.env.BENCH_LATENCY_JOBS ?? 300);
const FLOW_JOBS = 1000;
const FLOW_BATCH = 100;

async function loadOurs() {
  const outDir = join(root, 'bench/.cache/scheduler');
  await build({
    input: {
      jobs: join(root, 'src/main/jobs/index.ts'),
      connection: join(root, 'src/main/db/connection.ts'),
      migrate: join(root, 'src/main/db/migrate.ts'),
      migrations: join(root, 'src/main/db/migrations/index.ts'),
    },
    platform: 'node',
    external: ['better-sqlite3', /^node:/],
    output: { dir: outDir, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
    logLevel: 'silent',
  });
  const load = (n) => import(pathToFileURL(join(outDir, `${n}.mjs`)).href);
  const [jobs, connection, migrate, migrations] = await Promise.all(['jobs', 'connection', 'migrate', 'migrations'].map(load));
  return { ...jobs, ...connection, ...migrate, ...migrations };
}

const silent = { debug() {}, info() {}, warn() {}, error: (m, d) => console.error(m, d ?? '') };
const tmp = mkdtempSync(join(tmpdir(), 'sfa-bench-'));
let dbCount = 0;
const dbFile = () => join(tmp, `bench-${++dbCount}.db`);

function percentile(values, p) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- ours

function oursSetup(J, { limit = 10, perform } = {}) {
  const db = J.openDatabase(dbFile()); // WAL + synchronous NORMAL + busy_timeout 5000
  J.migrate(db, J.migrations);
  const worker = J.defineWorker({ name: 'noop', queue: 'bench', maxAttempts: 3, perform: perform ?? (() => undefined) });
  const scheduler = J.createScheduler({ db, workers: [worker], queues: { bench: limit }, logger: silent });
  return { db, worker, scheduler };
}

async function oursThroughput(J) {
  const { db, worker, scheduler } = oursSetup(J);
  scheduler.start();
  let done = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  scheduler.on('job:stop', () => {
    if (++done === N) resolveAll();
  });
  const t0 = performance.now();
  for (let i = 0; i < N; i++) scheduler.insertAllSync([{ worker, args: { i } }]);
  await all;
  const secs = (performance.now() - t0) / 1000;
  await scheduler.stop({ graceMs: 1000 });
  const completed = db.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'completed'").get().n;
  db.close();
  if (completed !== N) throw new Error(`ours: ${completed} of ${N} completed`);
  return N / secs;
}

async function oursLatency(J) {
  const starts = new Map();
  const { db, worker, scheduler } = oursSetup(J, {
    perform: (job) => {
      starts.set(job.args.i, performance.now());
    },
  });
  scheduler.start();
  const inserted = new Map();
  for (let i = 0; i < LATENCY_JOBS; i++) {
    inserted.set(i, performance.now());
    await scheduler.insert(worker, { i });
    await sleep(2);
  }
  while (starts.size < LATENCY_JOBS) await sleep(5);
  await scheduler.stop({ graceMs: 1000 });
  db.close();
  return [...inserted].map(([i, t]) => starts.get(i) - t);
}

async function oursFlow(J) {
  const { db, worker, scheduler } = oursSetup(J, {
    limit: 3,
    perform: async (_job, ctx) => {
      for (let p = 0; p <= 100; p += 25) {
        ctx.progress(p, 'working');
        await new Promise((r) => setImmediate(r));
      }
    },
  });
  scheduler.start();
  let done = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  scheduler.on('job:stop', () => {
    if (++done === FLOW_JOBS) resolveAll();
  });
  const t0 = performance.now();
  scheduler.insertAllSync(Array.from({ length: FLOW_JOBS }, (_, i) => ({ worker, args: { i } })));
  const insertAllMs = performance.now() - t0;
  await all;
  done = 0;
  const again = new Promise((r) => (resolveAll = r));
  // Measured flow: the same 1,000 jobs arrive as 10 batches of 100 (albums added while the
  // queues work), each batch one insertAll transaction.
  const probe = blockProbe();
  let longestInsertMs = 0;
  for (let b = 0; b < FLOW_JOBS / FLOW_BATCH; b++) {
    const specs = Array.from({ length: FLOW_BATCH }, (_, i) => ({ worker, args: { i: b * FLOW_BATCH + i } }));
    const t = performance.now();
    scheduler.insertAllSync(specs);
    longestInsertMs = Math.max(longestInsertMs, performance.now() - t);
    await sleep(5);
  }
  await again;
  const block = { ...probe.stop(), longestInsertMs };
  await scheduler.stop({ graceMs: 1000 });
  db.close();
  return { ...block, insertAllMs };
}

// ---------------------------------------------------------------- plainjob

function plainSetup() {
  const raw = new Database(dbFile());
  raw.pragma('busy_timeout = 5000');
  raw.pragma('journal_mode = WAL');
  raw.pragma('synchronous = NORMAL');
  raw.pragma('foreign_keys = ON');
  const queue = defineQueue({ connection: better(raw), logger: silent, maintenanceInterval: 3_600_000 });
  return { raw, queue };
}

async function plainThroughput() {
  const { raw, queue } = plainSetup();
  let done = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  const worker = definePlainWorker('noop', () => {}, {
    queue,
    logger: silent,
    pollIntervall: PLAIN_POLL_MS,
    onCompleted: () => {
      if (++done === N) resolveAll();
    },
  });
  void worker.start();
  await sleep(20); // let it reach its idle poll: both start from an idle worker
  const t0 = performance.now();
  for (let i = 0; i < N; i++) queue.add('noop', { i });
  await all;
  const secs = (performance.now() - t0) / 1000;
  await worker.stop();
  queue.close();
  raw.close();
  return N / secs;
}

async function plainLatency() {
  const { raw, queue } = plainSetup();
  const starts = new Map();
  const worker = definePlainWorker('noop', (job) => void starts.set(JSON.parse(job.data).i, performance.now()), {
    queue,
    logger: silent,
    pollIntervall: PLAIN_POLL_MS,
  });
  void worker.start();
  const inserted = new Map();
  for (let i = 0; i < LATENCY_JOBS; i++) {
    inserted.set(i, performance.now());
    queue.add('noop', { i });
    await sleep(2);
  }
  while (starts.size < LATENCY_JOBS) await sleep(5);
  await worker.stop();
  queue.close();
  raw.close();
  return [...inserted].map(([i, t]) => starts.get(i) - t);
}

async function plainFlow() {
  const { raw, queue } = plainSetup();
  let done = 0;
  let resolveAll;
  const all = new Promise((r) => (resolveAll = r));
  const worker = definePlainWorker(
    'noop',
    async () => {
      for (let p = 0; p <= 100; p += 25) await new Promise((r) => setImmediate(r));
    },
    {
      queue,
      logger: silent,
      pollIntervall: PLAIN_POLL_MS,
      onCompleted: () => {
        if (++done === FLOW_JOBS) resolveAll();
      },
    },
  );
  void worker.start();
  const t0 = performance.now();
  queue.addMany(
    'noop',
    Array.from({ length: FLOW_JOBS }, (_, i) => ({ i })),
  );
  const insertAllMs = performance.now() - t0;
  await all;
  done = 0;
  const again = new Promise((r) => (resolveAll = r));
  const probe = blockProbe();
  let longestInsertMs = 0;
  for (let b = 0; b < FLOW_JOBS / FLOW_BATCH; b++) {
    const data = Array.from({ length: FLOW_BATCH }, (_, i) => ({ i: b * FLOW_BATCH + i }));
    const t = performance.now();
    queue.addMany('noop', data);
    longestInsertMs = Math.max(longestInsertMs, performance.now() - t);
    await sleep(5);
  }
  await again;
  const block = { ...probe.stop(), longestInsertMs };
  await worker.stop();
  queue.close();
  raw.close();
  return { ...block, insertAllMs };
}

// ---------------------------------------------------------------- event-loop probe

// ---------------------------------------------------------------- main

const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : String(v));

try {
  const J = await loadOurs();
  // Warm up both (JIT, page cache) so the first measured run is not penalised.
  await oursThroughput(J);
  await plainThroughput();

  const oursTp = [];
  const plainTp = [];
  for (let r = 0; r < 3; r++) {
    oursTp.push(await oursThroughput(J));
    plainTp.push(await plainThroughput());
  }
  const ours = percentile(oursTp, 50);
  const plain = percentile(plainTp, 50);

  const oursLat = await oursLatency(J);
  const plainLat = await plainLatency();
  const oursFlowRes = await oursFlow(J);
  const plainFlowRes = await plainFlow();

  const rows = [
    ['no-op throughput (jobs/s, median of 3)', ours, plain, ours / plain, 0],
    ['dispatch latency p50 (ms)', percentile(oursLat, 50), percentile(plainLat, 50), percentile(oursLat, 50) / percentile(plainLat, 50), 2],
    ['dispatch latency p99 (ms)', percentile(oursLat, 99), percentile(plainLat, 99), percentile(oursLat, 99) / percentile(plainLat, 99), 2],
    [
      'max event-loop block, on-CPU, 1,000 jobs (ms)',
      oursFlowRes.maxBlockMs,
      plainFlowRes.maxBlockMs,
      oursFlowRes.maxBlockMs / plainFlowRes.maxBlockMs,
      1,
    ],
    [
      'max event-loop delay, wall, 1,000 jobs (ms)',
      oursFlowRes.maxWallMs,
      plainFlowRes.maxWallMs,
      oursFlowRes.maxWallMs / plainFlowRes.maxWallMs,
      1,
    ],
    [
      'longest insertAll of 100 in the flow (ms)',
      oursFlowRes.longestInsertMs,
      plainFlowRes.longestInsertMs,
      oursFlowRes.longestInsertMs / plainFlowRes.longestInsertMs,
      1,
    ],
    [
      'one insertAll of 1,000 jobs, cold (ms)',
      oursFlowRes.insertAllMs,
      plainFlowRes.insertAllMs,
      oursFlowRes.insertAllMs / plainFlowRes.insertAllMs,
      1,
    ],
  ];
  console.log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs (other processes inflate blocks and latency)`,
  );
  console.log(`scheduler benchmark: ${N} jobs x3 for throughput, ${LATENCY_JOBS} for latency; WAL + synchronous NORMAL file DBs`);
  console.log(`plainjob: one in-process worker, pollIntervall ${PLAIN_POLL_MS} ms (its default is 1000 ms); ours: queue limit 10`);
  console.log('');
  const w0 = 46;
  console.log(`${'figure'.padEnd(w0)} ${'ours'.padStart(10)} ${'plainjob'.padStart(10)} ${'ratio'.padStart(8)}`);
  console.log('-'.repeat(w0 + 31));
  for (const [name, a, b, ratio, d] of rows) {
    console.log(`${name.padEnd(w0)} ${fmt(a, d).padStart(10)} ${fmt(b, d).padStart(10)} ${fmt(ratio, 2).padStart(8)}`);
  }
  console.log('');
  const targets = [
    [`throughput >= plainjob`, ours >= plain],
    [`dispatch p99 < 10 ms`, percentile(oursLat, 99) < 10],
    [`no event-loop block > 20 ms (on-CPU)`, oursFlowRes.maxBlockMs <= 20],
  ];
  for (const [t, ok] of targets) console.log(`${ok ? 'PASS' : 'MISS'} ${t}`);
  console.log(
    `BENCH scheduler jobs=${N} plainjob_poll_ms=${PLAIN_POLL_MS} ours_jobs_per_s=${ours.toFixed(0)} plainjob_jobs_per_s=${plain.toFixed(0)} throughput_ratio=${(ours / plain).toFixed(2)} dispatch_p99_ms=${percentile(oursLat, 99).toFixed(2)} max_block_ms=${oursFlowRes.maxBlockMs.toFixed(1)}`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
