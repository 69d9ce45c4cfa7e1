import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { silentLogger } from '../log';
import { startServer, type Server } from '../serve';

let home: string;
let engine: TestEngine;
let server: Server;
let trackId: string;
let stemPath: string;
const source = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sfa-media-'));
  const music = join(home, 'music');
  mkdirSync(music);
  writeFileSync(join(music, 'song.wav'), source);
  writeFileSync(join(home, 'secret.txt'), 'top secret');
  engine = await createEngineForTests({ home: join(home, 'data'), host: 'cli', logger: silentLogger });
  const track = engine.tracks.insert({
    title: 'Song', artist: null, album: null, sourceKind: 'file', source: join(music, 'song.wav'), path: join(music, 'song.wav'),
    contentHash: 'h1', duration: 1, sampleRate: 44100, channels: 1, codec: 'pcm_s16le', status: 'ready',
  });
  trackId = track.id;
  const dir = join(engine.paths.stems, trackId, 'dsp-x');
  mkdirSync(dir, { recursive: true });
  stemPath = join(dir, 'vocals.wav');
  writeFileSync(stemPath, Buffer.from('RIFFstem'));
  engine.stems.register([{ trackId, jobId: null, model: 'dsp', optionsKey: 'x', stem: 'vocals', path: stemPath, size: 8, duration: 1, format: 'wav', device: 'cpu' }]);
  server = await startServer(engine, { staticDir: join(home, 'renderer') });
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  rmSync(home, { recursive: true, force: true });
});

const auth = { Authorization: `Bearer ${'x'}` };
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${server.token}`, ...headers } });

describe('GET /media/<trackId>/<stem|source>', () => {
  it('needs the token', async () => {
    const res = await fetch(`${server.url}/media/${trackId}/source`, { headers: auth });
    expect(res.status).toBe(401);
  });

  it('serves the registered source file whole and by range', async () => {
    const whole = await get(`/media/${trackId}/source`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(source)).toBe(true);
    const part = await get(`/media/${trackId}/source`, { Range: 'bytes=10-19' });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe('bytes 10-19/1000');
    expect([...new Uint8Array(await part.arrayBuffer())]).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
    const bad = await get(`/media/${trackId}/source`, { Range: 'bytes=5000-' });
    expect(bad.status).toBe(416);
  });

  it('serves a registered stem, as an attachment when asked', async () => {
    const res = await get(`/media/${trackId}/vocals?download=1`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toContain('Song - vocals.wav');
    expect(await res.text()).toBe('RIFFstem');
  });

  it('never serves paths or unregistered names', async () => {
    for (const path of [`/media/${trackId}/drums`, '/media/nope/source', `/media/${trackId}/..%2F..%2Fsecret.txt`, '/media/%2E%2E/secret.txt']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });

  it('library.remove deletes stem files but never the source file', async () => {
    const reply = await engine.api.handle('library.remove', { ids: [trackId] });
    expect(reply).toMatchObject({ ok: true, result: { removed: [trackId] } });
    expect(existsSync(stemPath)).toBe(false);
    expect(existsSync(join(home, 'music', 'song.wav'))).toBe(true);
    expect(engine.stems.forTrack(trackId)).toEqual([]);
    expect((await get(`/media/${trackId}/source`)).status).toBe(404);
  });

  it('settings persist and apply queue concurrency', async () => {
    const reply = await engine.api.handle('settings.set', { defaultModel: 'dsp', concurrency: { analysis: 3 }, autoPipeline: false });
    expect(reply).toMatchObject({ ok: true, result: { defaultModel: 'dsp', autoPipeline: false } });
    expect(engine.scheduler.stats().queues.analysis?.limit).toBe(3);
    const again = await engine.api.handle('settings.get', {});
    expect(again).toMatchObject({ ok: true, result: { defaultModel: 'dsp', concurrency: { analysis: 3 } } });
    const bad = await engine.api.handle('settings.set', { concurrency: { nope: 2 } });
    expect(bad.ok).toBe(false);
  });
});
