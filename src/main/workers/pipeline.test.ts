/**
 * The pipeline end to end on the real engine: a real SQLite file, the real scheduler, real Python
 * sidecars (the DSP separator, which needs no model download, and the librosa analyzer).
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, writeSine } from '../../test/fixtures';
import { analysisResultSchema } from '../../shared/analysis';
import { createEngineForTests, type TestEngine } from '../test/engine';
import type { Job } from '../jobs';
import { silentLogger } from '../log';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(queues?: Record<string, number>): Promise<{ engine: TestEngine; dir: string }> {
  const t = tempDir('sfa-pipeline-');
  cleanups.push(t.cleanup);
  const engine = await createEngineForTests({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, runQueues: true, separation: { model: 'dsp' }, queues });
  cleanups.push(() => engine.close());
  return { engine, dir: t.dir };
}

function jobsOf(engine: TestEngine, trackId: string): Record<string, Job<unknown>> {
  return Object.fromEntries(engine.scheduler.listJobs({ trackId }).map((j) => [j.worker, j]));
}

async function settle(engine: TestEngine, ids: number[], timeoutMs = 150_000): Promise<void> {
  await Promise.all(ids.map((id) => engine.scheduler.waitFor(id, { timeoutMs })));
}

describe('pipeline: import -> separate -> analyze', () => {
  it('separates a dropped file, then analyses it from its stems, storing both atomically', async () => {
    const { engine, dir } = await setup();
    const file = writeSine(join(dir, 'song.wav'), 6, { freq: 220 });
    const events: string[] = [];
    engine.events.subscribe((event, payload) => {
      if (event === 'job:changed') events.push(`${(payload as { job: Job }).job.worker}:${(payload as { job: Job }).job.state}`);
    });
    const reply = await engine.api.handle('library.add', { inputs: [file] });
    expect(reply.ok).toBe(true);
    const track = engine.tracks.list()[0]!;
    const jobs = jobsOf(engine, track.id);
    expect(Object.keys(jobs).sort()).toEqual(['analyze', 'separate']);
    expect(jobs.analyze).toMatchObject({ state: 'scheduled', waiting: true });
    await settle(engine, [jobs.separate!.id, jobs.analyze!.id]);

    const done = jobsOf(engine, track.id);
    expect(done.separate).toMatchObject({ state: 'completed', attempt: 1 });
    expect(done.analyze).toMatchObject({ state: 'completed', attempt: 1 });
    // separation finished before analysis started
    expect(events.indexOf('separate:completed')).toBeLessThan(events.indexOf('analyze:executing'));

    const detail = engine.trackDetail(track.id);
    expect(Object.keys(detail.stems ?? {}).sort()).toEqual(['bass', 'drums', 'other', 'vocals']);
    for (const path of Object.values(detail.stems!)) expect(existsSync(path)).toBe(true);
    const stemRoot = join(engine.paths.stems, track.id);
    expect(readdirSync(stemRoot).filter((n) => n.endsWith('.tmp'))).toEqual([]);
    const analysis = detail.analysis!;
    // stored only after validation against the shared schema (src/shared/analysis.ts)
    expect(analysisResultSchema.safeParse(analysis).success).toBe(true);
    expect(analysis.tempo.bpm).toBeGreaterThan(0);
    expect(Array.isArray(analysis.grid?.beats)).toBe(true);
    expect(typeof analysis.key.key).toBe('string');
    expect(['mix', 'stems']).toContain(analysis.source);
    expect(analysis.candidates).toBeDefined();

    const list = await engine.api.handle('library.list', {});
    expect(list).toMatchObject({ ok: true, result: { tracks: [expect.objectContaining({ id: track.id, stemCount: 4, analysis: expect.objectContaining({ bpm: expect.any(Number) }) })] } });
  }, 200_000);

  it('reuses the stems of an earlier separation with the same settings', async () => {
    const { engine, dir } = await setup();
    const file = writeSine(join(dir, 'song.wav'), 3);
    await engine.api.handle('library.add', { inputs: [file], steps: ['separate'] });
    const track = engine.tracks.list()[0]!;
    await settle(engine, [jobsOf(engine, track.id).separate!.id]);
    const before = engine.trackDetail(track.id).stems;
    const { job } = await engine.scheduler.insert('separate', { trackId: track.id, model: 'dsp' }, { trackId: track.id });
    const again = await engine.scheduler.waitFor(job.id, { timeoutMs: 60_000 });
    expect(again.state).toBe('completed');
    expect(again.result).toMatchObject({ reused: true });
    expect(engine.trackDetail(track.id).stems).toEqual(before);
  }, 120_000);

  it('cancelling a running separation leaves no stems registered and no files behind; analysis still runs on the mix', async () => {
    const { engine, dir } = await setup();
    const file = writeSine(join(dir, 'long.wav'), 240, { freq: 110 });
    await engine.api.handle('library.add', { inputs: [file] });
    const track = engine.tracks.list()[0]!;
    const { separate, analyze } = jobsOf(engine, track.id);
    await new Promise<void>((resolve) => {
      const off = engine.scheduler.on('job:progress', (p) => {
        if (p.id === separate!.id && p.percent > 0) {
          off();
          resolve();
        }
      });
    });
    const started = Date.now();
    engine.scheduler.cancel(separate!.id);
    const cancelled = await engine.scheduler.waitFor(separate!.id, { timeoutMs: 10_000 });
    expect(cancelled.state).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2500);
    await engine.scheduler.waitFor(analyze!.id, { timeoutMs: 150_000 });
    expect(engine.stems.forTrack(track.id)).toEqual([]);
    const stemRoot = join(engine.paths.stems, track.id);
    expect(existsSync(stemRoot) ? readdirSync(stemRoot) : []).toEqual([]);
    expect(engine.trackDetail(track.id).analysis).toMatchObject({ source: 'mix' });
  }, 200_000);

  it('a sidecar killed mid-separation fails the attempt; the retry completes and registers one full set', async () => {
    // one processing sidecar, started before the job, so the job runs in the process we kill
    const { engine, dir } = await setup({ processing: 1 });
    const hello = await engine.sidecars.processing.warm();
    const file = writeSine(join(dir, 'crash.wav'), 120);
    await engine.api.handle('library.add', { inputs: [file], steps: ['separate'] });
    const track = engine.tracks.list()[0]!;
    const { separate } = jobsOf(engine, track.id);
    await new Promise<void>((resolve) => {
      const off = engine.scheduler.on('job:progress', (p) => {
        if (p.id === separate!.id && p.percent > 0) {
          off();
          resolve();
        }
      });
    });
    process.kill(hello.pid, 'SIGKILL');
    await new Promise<void>((resolve) => {
      const off = engine.scheduler.on('job:state', ({ job }) => {
        if (job.id === separate!.id && job.state === 'retryable') {
          off();
          resolve();
        }
      });
    });
    const failed = engine.scheduler.getJob(separate!.id)!;
    expect(failed.errors.at(-1)).toMatchObject({ attempt: 1, code: 'SIDECAR_CRASHED' });
    expect(engine.stems.forTrack(track.id)).toEqual([]);
    engine.scheduler.retry(separate!.id); // skip the backoff wait
    const done = await engine.scheduler.waitFor(separate!.id, { timeoutMs: 240_000 });
    expect(done).toMatchObject({ state: 'completed', attempt: 2 });
    expect(engine.stems.forTrack(track.id)).toHaveLength(4);
  }, 360_000);
});
