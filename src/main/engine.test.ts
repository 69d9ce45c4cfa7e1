import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AddResult, Track } from '../shared/domain';
import { tempDir, writeSine } from '../test/fixtures';
import { createEngine, type Engine } from './engine';
import { silentLogger } from './log';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(options: { runQueues?: boolean } = {}): Promise<{ engine: Engine; dir: string; home: string }> {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const home = join(t.dir, 'home');
  const engine = await createEngine({ home, host: 'cli', logger: silentLogger, ...options });
  cleanups.push(() => engine.close());
  return { engine, dir: t.dir, home };
}

async function ok<T>(engine: Engine, name: string, params: unknown): Promise<T> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as T;
}

describe('engine: library slice through the contract', () => {
  it('imports files and folders (recursively), probed by the sidecar; reports non-audio files and goes on', async () => {
    const { engine, dir } = await setup();
    const a = writeSine(join(dir, 'a.wav'), 1.5);
    mkdirSync(join(dir, 'folder', 'sub'), { recursive: true });
    writeSine(join(dir, 'folder', 'b.wav'), 2, { sampleRate: 48_000, channels: 1, freq: 220 });
    writeSine(join(dir, 'folder', 'sub', 'c d (1) $(x).wav'), 1, { freq: 330 });
    writeFileSync(join(dir, 'folder', 'notes.txt'), 'not audio and not named like it: skipped silently');
    writeFileSync(join(dir, 'x.mp3'), 'this is text, not an mp3');
    const events: unknown[] = [];
    engine.events.subscribe((event, payload) => events.push({ event, payload }));

    const result = await ok<AddResult>(engine, 'library.add', { inputs: [a, join(dir, 'folder'), join(dir, 'x.mp3'), join(dir, 'nope.wav')], steps: [] });
    expect(result.tracks.map((t) => t.title).sort()).toEqual(['a', 'b', 'c d (1) $(x)']);
    expect(result.errors).toEqual([
      expect.objectContaining({ input: join(dir, 'nope.wav'), code: 'FILE_NOT_FOUND' }),
      expect.objectContaining({ input: join(dir, 'x.mp3'), code: 'NOT_AUDIO', message: expect.stringContaining('not an audio file') }),
    ]);
    const { tracks } = await ok<{ tracks: Track[] }>(engine, 'library.list', {});
    const b = tracks.find((t) => t.title === 'b')!;
    expect(b).toMatchObject({ sampleRate: 48_000, channels: 1, status: 'ready', sourceKind: 'file', codec: 'pcm_s16le' });
    expect(b.duration).toBeCloseTo(2, 1);
    expect(events.filter((e) => (e as { event: string }).event === 'library:changed')).toEqual([
      { event: 'library:changed', payload: { ids: expect.arrayContaining(result.tracks.map((t) => t.id)) } },
    ]);
    expect(events.at(-1)).toEqual({ event: 'library:import', payload: { importId: expect.any(String), seen: 5, imported: 3, skipped: 0, failed: 2, done: true } });
  });

  it('treats the same content twice (even under another name, even in one request) as one track', async () => {
    const { engine, dir } = await setup();
    const a = writeSine(join(dir, 'a.wav'), 1);
    const copy = writeSine(join(dir, 'copy of a.wav'), 1);
    const first = await ok<AddResult>(engine, 'library.add', { inputs: [a, copy] });
    expect(new Set(first.tracks.map((t) => t.id)).size).toBe(1);
    const again = await ok<AddResult>(engine, 'library.add', { inputs: [a] });
    expect(again.tracks[0]!.id).toBe(first.tracks[0]!.id);
    expect((await ok<{ tracks: Track[] }>(engine, 'library.list', {})).tracks).toHaveLength(1);
  });

  it('survives a symlink loop in a dropped folder', async () => {
    const { engine, dir } = await setup();
    mkdirSync(join(dir, 'loop'));
    writeSine(join(dir, 'loop', 'a.wav'), 1);
    symlinkSync(join(dir, 'loop'), join(dir, 'loop', 'again'));
    const result = await ok<AddResult>(engine, 'library.add', { inputs: [join(dir, 'loop')] });
    expect(result.tracks).toHaveLength(1);
  });

  it('turns links into pending tracks and rejects hostile ones before anything runs', async () => {
    const { engine } = await setup();
    const result = await ok<AddResult>(engine, 'library.add', {
      inputs: ['https://open.spotify.com/intl-fr/track/4uLU6hMCjMI75M1A2tKUQC?si=1', '--output=/etc/x', 'https://evil.example/a', 'javascript:alert(1)'],
    });
    expect(result.tracks).toEqual([expect.objectContaining({ source: 'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC' })]);
    // '--output=/etc/x' is not a link: it is a path that does not exist
    expect(result.errors.map((e) => e.code)).toEqual(['FILE_NOT_FOUND', 'INVALID_LINK', 'INVALID_LINK']);
    const track = await ok<Track>(engine, 'library.get', { id: result.tracks[0]!.id });
    expect(track).toMatchObject({ status: 'pending', sourceKind: 'spotify', path: null });
  });

  it('validates every request against the contract', async () => {
    const { engine } = await setup();
    expect(await engine.api.handle('library.add', { inputs: [] })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await engine.api.handle('library.add', { inputs: ['a'], extra: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await engine.api.handle('library.get', { id: 42 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await engine.api.handle('library.get', { id: 'missing' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await engine.api.handle('library.nuke', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_REQUEST' } });
    expect(await engine.api.handle('__proto__', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_REQUEST' } });
    expect(await engine.api.handle('constructor', {})).toMatchObject({ ok: false, error: { code: 'UNKNOWN_REQUEST' } });
  });

  it('lets one process work the queues: a second gets HOME_LOCKED, readers and enqueuers still work', async () => {
    const { home } = await setup();
    const runner = await createEngine({ home, host: 'cli', logger: silentLogger, runQueues: true });
    cleanups.push(() => runner.close());
    await expect(createEngine({ home, host: 'cli', logger: silentLogger, runQueues: true })).rejects.toMatchObject({
      code: 'HOME_LOCKED',
      message: expect.stringContaining('Another Sound Forge Alchemy process'),
    });
    const reader = await createEngine({ home, host: 'cli', logger: silentLogger, readonly: true });
    expect(await reader.api.handle('library.list', {})).toMatchObject({ ok: true });
    await reader.close();
  });

  it('reports the environment through system.doctor with the executable each check used', async () => {
    const { engine } = await setup();
    const report = await ok<{ checks: { name: string; ok: boolean; path?: string; version?: string; detail?: string }[] }>(engine, 'system.doctor', {});
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(['python', 'torch', 'demucs', 'librosa', 'ffmpeg', 'spotdl', 'yt-dlp', 'electron']));
    expect(byName.python).toMatchObject({ ok: true, path: expect.stringContaining('python') });
    expect(byName.torch).toMatchObject({ ok: true, version: expect.stringMatching(/^2\.13/), detail: expect.stringMatching(/^device: (cpu|cuda|mps)/) });
    expect(byName.ffmpeg).toMatchObject({ ok: true, path: expect.stringContaining('ffmpeg') });
    // the JavaScript runtime yt-dlp needs for YouTube, from the pinned deno and yt-dlp-ejs wheels
    expect(byName['js-runtime']).toMatchObject({ ok: true, version: expect.stringMatching(/^deno \d+\.\d+\.\d+, yt-dlp-ejs \d+\.\d+\.\d+$/), path: expect.stringMatching(/deno(\.exe)?$/) });
  }, 60_000);

  it('is only a door: the contract, its events and the media lookup', async () => {
    const { engine } = await setup();
    expect(Object.keys(engine).sort()).toEqual(['api', 'close', 'events', 'media', 'prewarm']);
    expect(Object.keys(engine.events)).not.toContain('emit');
  });

  it('separates and analyses now through requests, with the stored settings as defaults, and waits', async () => {
    const { engine, dir } = await setup({ runQueues: true });
    const file = writeSine(join(dir, 'now.wav'), 1);
    await ok(engine, 'settings.set', { defaultModel: 'dsp', format: 'flac' });
    const progress: number[] = [];
    engine.events.subscribe((event, payload) => event === 'job:progress' && progress.push((payload as { id: number }).id));

    // Two tracks at once: separation (processing queue) and analysis (analysis queue) run side by side.
    const [separated, analysed] = await Promise.all([
      ok<{ trackId: string; jobId: number; model: string; stems: Record<string, string> }>(engine, 'separation.run', { input: file }),
      ok<{ trackId: string; jobId: number; result: { tempo?: unknown } }>(engine, 'analysis.run', { input: writeSine(join(dir, 'other.wav'), 1, { freq: 330 }) }),
    ]);
    expect(separated.model).toBe('dsp');
    expect(Object.values(separated.stems).length).toBeGreaterThan(0);
    for (const path of Object.values(separated.stems)) expect(path).toMatch(/\.flac$/);
    expect(progress).toContain(separated.jobId);
    expect(await ok(engine, 'jobs.wait', { id: separated.jobId })).toMatchObject({ id: separated.jobId, state: 'completed', worker: 'separate', priority: 0 });
    expect(analysed.result.tempo).toBeDefined();
    expect(await ok(engine, 'jobs.wait', { id: analysed.jobId })).toMatchObject({ state: 'completed', worker: 'analyze' });
    expect(await ok(engine, 'queues.waitIdle', { pollMs: 20 })).toMatchObject({ queues: expect.any(Array) });
    expect(await ok(engine, 'jobs.failures', {})).toEqual({ jobs: [] });
  }, 180_000);

  it("refuses model names the sidecar would read as options or hidden files, whoever asks", async () => {
    const { engine, dir } = await setup();
    const file = writeSine(join(dir, 'x.wav'), 1);
    for (const model of ['-rf', '.hidden', '--repo=/tmp', 'a/b']) {
      expect(await engine.api.handle('separation.run', { input: file, model })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', message: expect.stringContaining('model') } });
      expect(await engine.api.handle('library.add', { inputs: [file], model })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    }
    expect(await engine.api.handle('separation.run', { input: file, device: 'tpu' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await engine.api.handle('separation.run', { input: file, overlap: 1 })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
    expect(await engine.api.handle('jobs.wait', { id: 999_999 })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
  });
});
