/**
 * The engine's side of the cluster backend against a stand-in driver (test/fake-driver.mjs, which
 * speaks the sidecar protocol and plays CLUSTER_UNREACHABLE, NODE_LOST, hangs): settings and their
 * precedence, drivers spawned with the address and token, the `cluster` key stripped and where the
 * job ran recorded, the unreachable wait (snoozed, no attempt spent, never discarded), node loss
 * retried, cancel, concurrency from the cluster's resources. The real driver on a real Ray
 * cluster: cluster.test.ts.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAMPLE_ANALYSIS } from '../../test/analysis';
import { tempDir } from '../../test/fixtures';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { silentLogger } from '../log';
import type { Job } from '../jobs';

const FAKE = join(__dirname, 'test', 'fake-driver.mjs');
const ADDRESS = 'ray://10.0.0.1:10001';
const NODE = { ip: '10.9.8.7', id: 'c0ffee00112233445566778899aabbccddeeff00112233445566778' };

interface Call {
  op: string;
  mode: string;
  cluster: boolean;
  address: string | null;
  token: string | null;
  threads: string | null;
}

let dir: string;
let cleanup: () => void;
const engines: TestEngine[] = [];
const saved = { python: process.env.SFA_PYTHON, address: process.env.SFA_RAY_ADDRESS, token: process.env.SFA_RAY_TOKEN };

beforeEach(() => {
  ({ dir, cleanup } = tempDir('sfa-cluster-fake-'));
  process.env.SFA_PYTHON = FAKE;
  process.env.FAKE_DRIVER_PLAN = join(dir, 'plan.json');
  delete process.env.SFA_RAY_ADDRESS;
  delete process.env.SFA_RAY_TOKEN;
  plan({});
});

afterEach(async () => {
  for (const engine of engines.splice(0)) await engine.close();
  const restore = (key: string, value: string | undefined) => (value === undefined ? delete process.env[key] : (process.env[key] = value));
  restore('SFA_PYTHON', saved.python);
  restore('SFA_RAY_ADDRESS', saved.address);
  restore('SFA_RAY_TOKEN', saved.token);
  cleanup();
});

function plan(p: Record<string, unknown>): void {
  writeFileSync(join(dir, 'plan.json'), JSON.stringify({ analysis: SAMPLE_ANALYSIS, ...p }));
}

function calls(): Call[] {
  const log = join(dir, 'plan.json.log');
  return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Call) : [];
}

async function engine(options: { address?: string | null; runQueues?: boolean } = {}): Promise<TestEngine> {
  const e = await createEngineForTests({
    home: join(dir, 'home'),
    host: 'cli',
    logger: silentLogger,
    runQueues: options.runQueues ?? true,
    queues: { processing: 1, analysis: 1 },
    cluster: { address: options.address ?? null, retryDelay: () => 0.2 },
  });
  engines.push(e);
  return e;
}

function addTrack(e: TestEngine, name = 'song'): string {
  const file = join(dir, `${name}.wav`);
  writeFileSync(file, 'RIFF');
  return e.tracks.insert({
    title: name, artist: null, album: null, sourceKind: 'file', source: file, path: file, contentHash: `h-${name}`,
    duration: 1, sampleRate: 44100, channels: 2, codec: 'pcm_s16le', status: 'ready',
  }).id;
}

async function call<T>(e: TestEngine, name: string, params: unknown): Promise<T> {
  const reply = await e.api.handle(name, params);
  if (!reply.ok) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
  return reply.result as T;
}

describe('cluster settings', () => {
  it('refuses a bad address with CLUSTER_ADDRESS; keeps the token out of the settings; precedence --cluster > env > setting', async () => {
    const e = await engine({ runQueues: false });
    for (const bad of ['http://head:10001', 'ray://user:pw@head:10001', '10.0.0.5:6379', '']) {
      await expect(call(e, 'settings.set', { cluster: { address: bad } })).rejects.toMatchObject({ code: 'CLUSTER_ADDRESS' });
    }
    const set = await call<{ cluster: Record<string, unknown> }>(e, 'settings.set', { cluster: { address: ADDRESS, token: 'tok-1234567890', threads: 2 } });
    expect(set.cluster).toMatchObject({ address: ADDRESS, active: { address: ADDRESS, source: 'setting' }, threads: 2, token: { stored: true, fromEnv: false } });
    expect(JSON.stringify(set)).not.toContain('tok-1234567890');
    expect(JSON.stringify(e.db.prepare('SELECT * FROM settings').all())).not.toContain('tok-1234567890');
    await e.close();

    process.env.SFA_RAY_ADDRESS = 'ray://from-env:10001';
    const fromEnv = await engine({ runQueues: false });
    expect((await call<{ cluster: { active: unknown } }>(fromEnv, 'settings.get', {})).cluster.active).toEqual({ address: 'ray://from-env:10001', source: 'env' });
    await fromEnv.close();

    const fromCli = await engine({ runQueues: false, address: '127.0.0.1:6379' });
    expect((await call<{ cluster: { active: unknown } }>(fromCli, 'settings.get', {})).cluster.active).toEqual({ address: '127.0.0.1:6379', source: 'cli' });
    await fromCli.close();

    process.env.SFA_RAY_ADDRESS = 'ray://evil.example:1/x';
    await expect(engine({ runQueues: false })).rejects.toMatchObject({ code: 'CLUSTER_ADDRESS' });
  });
});

describe('jobs on a cluster driver', () => {
  it('spawns drivers with the address and token, strips and records where each job ran, stores the same results', async () => {
    const e = await engine();
    await call(e, 'settings.set', { cluster: { address: ADDRESS, token: 'tok-1234567890', threads: 3 } });
    const trackId = addTrack(e);
    const [separate, analyze] = await e.enqueuePipeline([trackId], ['separate', 'analyze'], { model: 'dsp' });
    const done = await e.scheduler.waitFor(analyze!, { timeoutMs: 20_000 });
    expect(done.state).toBe('completed');
    const sep = e.scheduler.getJob(separate!)!;
    expect(sep.state).toBe('completed');
    // where it ran: in the row (Jobs panel, sfa jobs) and nowhere in the result the contract checks
    expect(sep.node).toEqual({ ip: NODE.ip, id: NODE.id });
    expect(done.node).toEqual({ ip: NODE.ip, id: NODE.id });
    expect(JSON.stringify(sep.result)).not.toContain('transferSeconds');
    const listed = await call<{ jobs: { id: number; node: unknown }[] }>(e, 'jobs.list', {});
    expect(listed.jobs.find((j) => j.id === separate)?.node).toEqual({ ip: NODE.ip, id: NODE.id });
    // the stored analysis is the driver's result without its `cluster` key
    const detail = e.trackDetail(trackId);
    expect(detail.analysis).toEqual(SAMPLE_ANALYSIS);
    expect(Object.keys(detail.stems ?? {}).sort()).toEqual(['other', 'vocals']);
    const work = calls().filter((c) => c.op === 'separate' || c.op === 'analyze');
    expect(work.map((c) => [c.op, c.cluster, c.address, c.token, c.threads])).toEqual([
      ['separate', true, ADDRESS, 'tok-1234567890', '3'],
      ['analyze', true, ADDRESS, 'tok-1234567890', '3'],
    ]);
  });

  it('reopens a home whose cluster settings override the concurrency (applied at start)', async () => {
    const first = await engine({ address: ADDRESS });
    await call(first, 'settings.set', { cluster: { concurrency: { processing: 2, analysis: 4 } } });
    await first.close();
    engines.splice(0);
    const again = await engine({ address: ADDRESS });
    expect(again.scheduler.stats().queues.processing?.limit).toBe(2);
    expect(again.scheduler.stats().queues.analysis?.limit).toBe(4);
  });

  it('switching the address off applies without a restart: the next job runs in a local sidecar', async () => {
    const e = await engine({ address: null });
    await call(e, 'settings.set', { cluster: { address: ADDRESS } });
    const first = await e.enqueuePipeline([addTrack(e, 'a')], ['analyze']);
    expect((await e.scheduler.waitFor(first[0]!, { timeoutMs: 20_000 })).state).toBe('completed');
    await call(e, 'settings.set', { cluster: { address: null } });
    const second = await e.enqueuePipeline([addTrack(e, 'b')], ['analyze']);
    const job = await e.scheduler.waitFor(second[0]!, { timeoutMs: 20_000 });
    expect(job).toMatchObject({ state: 'completed', node: null });
    expect(calls().filter((c) => c.op === 'analyze').map((c) => c.cluster)).toEqual([true, false]);
  });

  it('an unreachable cluster: the job waits (snoozed, "cluster unreachable"), spends no attempt, is never discarded, then completes', async () => {
    plan({ separate: ['unreachable', 'unreachable', 'unreachable', 'unreachable', 'ok'] });
    const e = await engine({ address: ADDRESS });
    const [id] = await e.enqueuePipeline([addTrack(e)], ['separate'], { model: 'dsp' });
    const snoozed: Job[] = [];
    e.scheduler.on('job:state', ({ job }) => {
      if (job.id === id && job.state === 'scheduled') snoozed.push(job);
    });
    const done = await e.scheduler.waitFor(id!, { timeoutMs: 30_000 });
    // four waits, more than the worker's 3 attempts: none of them counted against it
    expect(snoozed).toHaveLength(4);
    for (const s of snoozed) expect(s.progress?.message).toMatch(/^cluster unreachable: waiting \(retrying in \d+s\)$/);
    expect(done).toMatchObject({ state: 'completed', errors: [], attempt: 5, maxAttempts: 7 });
    expect(done.maxAttempts - done.attempt).toBe(2); // as many attempts left as a job that never waited
  });

  it('a node lost mid-job: that attempt fails with NODE_LOST and the retry completes with exactly one stem set', async () => {
    plan({ separate: ['node_lost', 'ok'] });
    const e = await engine({ address: ADDRESS });
    const trackId = addTrack(e);
    const [id] = await e.enqueuePipeline([trackId], ['separate'], { model: 'dsp' });
    const done = await e.scheduler.waitFor(id!, { timeoutMs: 30_000 });
    expect(done.state).toBe('completed');
    expect(done.attempt).toBe(2);
    expect(done.errors.map((x) => x.code)).toEqual(['NODE_LOST']);
    const rows = e.db.prepare('SELECT count(*) AS n FROM stems WHERE track_id = ?').get(trackId) as { n: number };
    expect(rows.n).toBe(2);
    expect(readdirSync(join(e.paths.stems, trackId))).toHaveLength(1);
  });

  it('a refused token discards the job with CLUSTER_AUTH (retrying cannot help)', async () => {
    plan({ analyze: ['auth'] });
    const e = await engine({ address: ADDRESS });
    const [id] = await e.enqueuePipeline([addTrack(e)], ['analyze']);
    const done = await e.scheduler.waitFor(id!, { timeoutMs: 20_000 });
    expect(done).toMatchObject({ state: 'discarded', attempt: 1 });
    expect(done.errors.at(-1)?.code).toBe('CLUSTER_AUTH');
  });

  it('cluster.status shows nodes, the running job on its node; a cancel mid-job leaves no stems; concurrency follows the cluster', async () => {
    plan({ separate: ['hang'], suggested: { processing: 3, analysis: 5 } });
    const e = await engine({ address: ADDRESS });
    const trackId = addTrack(e);
    const [id] = await e.enqueuePipeline([trackId], ['separate'], { model: 'dsp' });
    // in flight: the node as the driver's first progress message names it (its id's first 8 digits)
    const running = { ip: NODE.ip, id: NODE.id.slice(0, 8) };
    await expect.poll(() => e.scheduler.getJob(id!)?.node, { timeout: 10_000 }).toEqual(running);
    const status = await call<{ connected: boolean; nodes: { ip: string; inFlight: number }[]; jobs: { id: number; node: unknown }[]; concurrency: unknown; suggested: unknown }>(e, 'cluster.status', {});
    expect(status.connected).toBe(true);
    expect(status.nodes.map((n) => [n.ip, n.inFlight])).toEqual([[NODE.ip, 1], ['10.9.8.6', 0]]);
    expect(status.jobs).toEqual([expect.objectContaining({ id, node: running })]);
    expect(status.suggested).toEqual({ processing: 3, analysis: 5 });
    await expect.poll(() => e.scheduler.stats().queues.processing?.limit, { timeout: 10_000 }).toBe(3);
    expect(e.scheduler.stats().queues.analysis?.limit).toBe(5);

    await call(e, 'jobs.cancel', { id });
    const done = await e.scheduler.waitFor(id!, { timeoutMs: 10_000 });
    expect(done.state).toBe('cancelled');
    expect(e.db.prepare('SELECT count(*) AS n FROM stems WHERE track_id = ?').get(trackId)).toEqual({ n: 0 });
    await expect.poll(() => (existsSync(join(e.paths.stems, trackId)) ? readdirSync(join(e.paths.stems, trackId)) : []), { timeout: 5000 }).toEqual([]);

    // an override wins over the cluster's suggestion
    await call(e, 'settings.set', { cluster: { concurrency: { processing: 1 } } });
    expect(e.scheduler.stats().queues.processing?.limit).toBe(1);
  });
});
