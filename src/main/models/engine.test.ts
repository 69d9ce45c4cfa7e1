/**
 * The model store in the real engine: import a tiny demucs model through the contract (loaded once
 * by the sidecar), separate with it; a separation downloads a missing catalogue model from a local
 * server first; and fails at once with MODEL_NOT_INSTALLED when it cannot.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelProgress } from '../../shared/contract';
import { tempDir, writeSine } from '../../test/fixtures';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { silentLogger } from '../log';
import { CATALOG } from './catalog';
import { buildTinyModel, serveFiles, testEntry, type Served } from './test/helpers';

let root: string;
let cleanup: () => void;
let tiny: ReturnType<typeof buildTinyModel>;
let server: Served;
let engine: TestEngine;
let song: string;
let trackId: string;
const ENTRY_NAME = 'tinyht';

beforeAll(async () => {
  ({ dir: root, cleanup } = tempDir('sfa-models-engine-'));
  tiny = buildTinyModel(join(root, 'tiny-repo'), 'tiny');
  // the same weights under another signature, so the import of `tiny` does not complete it
  const entry = testEntry(ENTRY_NAME, 'beef0001', tiny.bytes);
  server = await serveFiles({ [entry.files[0]!.path]: tiny.bytes });
  const htdemucs = CATALOG.find((m) => m.name === 'htdemucs')!; // not served: a 404, as when the source is gone
  engine = await createEngineForTests({
    home: join(root, 'home'), host: 'cli', logger: silentLogger, runQueues: true, queues: { processing: 1 },
    models: { baseUrl: server.url, catalog: [entry, htdemucs], torchHubDir: null, hfHubDir: null, retryDelayMs: 10 },
  });
  song = writeSine(join(root, 'song.wav'), 3, { freq: 330 });
  trackId = await addTrack();
}, 60_000);
afterAll(async () => {
  await engine?.close();
  await server?.close();
  cleanup();
});

async function addTrack(): Promise<string> {
  const reply = await engine.api.handle('library.add', { inputs: [song], steps: [] });
  expect(reply.ok).toBe(true);
  return engine.tracks.list()[0]!.id;
}

async function separate(model: string) {
  const messages: string[] = [];
  const off = engine.scheduler.on('job:progress', (p) => p.message && messages.push(p.message));
  const { job } = await engine.scheduler.insert('separate', { trackId, model }, { trackId });
  const done = await engine.scheduler.waitFor(job.id, { timeoutMs: 120_000 });
  off();
  return { done, messages };
}

describe('model store in the engine', () => {
  it('imports a model folder through the contract, then separates a track with it', async () => {
    const reply = await engine.api.handle('models.import', { path: tiny.dir });
    expect(reply).toMatchObject({ ok: true, result: { imported: ['tiny'], models: [expect.objectContaining({ name: 'tiny', installed: true })] } });
    // the sidecar loaded it to verify it (it stays warm for the separation)
    const { done } = await separate('tiny');
    expect(done.state).toBe('completed');
    const stems = engine.stems.find(trackId, 'tiny', engine.stems.forTrack(trackId)[0]!.optionsKey);
    expect(stems.map((s) => s.stem).sort()).toEqual(['bass', 'drums', 'other', 'vocals']);
    for (const s of stems) expect(existsSync(s.path)).toBe(true);
    const list = await engine.api.handle('models.list', {});
    expect(list).toMatchObject({ ok: true, result: { dir: engine.paths.models } });
  }, 120_000);

  it('downloads a missing model before separating, reporting progress in the job and as models:progress', async () => {
    const events: ModelProgress[] = [];
    const off = engine.events.subscribe((event, payload) => event === 'models:progress' && events.push(payload as ModelProgress));
    const { done, messages } = await separate(ENTRY_NAME);
    off();
    expect(done.state).toBe('completed');
    expect(messages.some((m) => /^downloading model tinyht \d+%$/.test(m))).toBe(true);
    expect(events.at(-1)).toMatchObject({ name: ENTRY_NAME, percent: 100, bytes: tiny.bytes.length, total: tiny.bytes.length });
    expect(server.requests.filter((r) => r.status === 200)).toHaveLength(1);
    expect(engine.models.isInstalled(ENTRY_NAME)).toBe(true);
    expect(engine.stems.forTrack(trackId).filter((s) => s.model === ENTRY_NAME)).toHaveLength(4);
  }, 120_000);

  it('fails a separation at once (no retries) with MODEL_NOT_INSTALLED when the model cannot be downloaded', async () => {
    const { done } = await separate('htdemucs');
    expect(done).toMatchObject({ state: 'discarded', attempt: 1 });
    expect(done.errors.at(-1)).toMatchObject({ code: 'MODEL_NOT_INSTALLED' });
    expect(JSON.stringify(done.errors.at(-1))).toContain('sfa models import');
  }, 60_000);

  it('lists and removes models through the contract', async () => {
    const removed = await engine.api.handle('models.remove', { name: 'tiny' });
    expect(removed).toMatchObject({ ok: true, result: { removed: 'tiny', freedBytes: tiny.bytes.length } });
    const list = await engine.api.handle('models.list', {});
    const names = (list as { result: { models: { name: string; installed: boolean }[] } }).result.models.filter((m) => m.installed).map((m) => m.name);
    expect(names).toEqual([ENTRY_NAME]);
    expect(await engine.api.handle('models.remove', { name: 'tiny' })).toMatchObject({ ok: false, error: { code: 'NOT_FOUND' } });
    expect(await engine.api.handle('models.download', { name: 'no such' })).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });
  });
});
