/**
 * The browser host's security properties not covered by serve.test.ts: the warning when bound
 * beyond loopback, the token on every route (media and uploads included, never in a query
 * except the first page load), media confined to registered library files (no traversal, no
 * symlink out of the stems folder).
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sineWav } from '../../test/fixtures';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { silentLogger } from '../log';
import { startServer, type Server } from '../serve';

let dir: string;
let engine: TestEngine;
let server: Server;
let trackId: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sfa-serve-hard-'));
  const staticDir = join(dir, 'renderer');
  mkdirSync(staticDir, { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>SFA</title>');
  writeFileSync(join(dir, 'secret.txt'), 'top secret');
  engine = await createEngineForTests({ home: join(dir, 'data'), host: 'cli', logger: silentLogger });
  server = await startServer(engine, { staticDir, uploadLimit: 1024 });
  // A track with one registered stem, without running Python: rows as the workers write them.
  const source = join(dir, 'song.wav');
  writeFileSync(source, sineWav(0.1));
  const track = engine.tracks.insert({
    title: 'song', artist: null, album: null, sourceKind: 'file', source, path: source, contentHash: 'h1',
    duration: 0.1, sampleRate: 44100, channels: 2, codec: 'pcm_s16le', status: 'ready',
  });
  trackId = track.id;
  const stemDir = join(engine.paths.stems, trackId, 'dsp-k');
  mkdirSync(stemDir, { recursive: true });
  for (const stem of ['vocals', 'drums']) writeFileSync(join(stemDir, `${stem}.wav`), sineWav(0.1));
  engine.stems.register(
    ['vocals', 'drums'].map((stem) => ({
      trackId, jobId: null, model: 'dsp', optionsKey: 'k', stem, path: join(stemDir, `${stem}.wav`), size: 1, duration: 0.1, format: 'wav', device: 'cpu',
    })),
  );
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  rmSync(dir, { recursive: true, force: true });
});

function raw(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end();
  });
}
const auth = () => ({ Authorization: `Bearer ${server.token}` });

describe('sfa serve hardening', () => {
  it('warns on stderr when bound beyond loopback, and not on loopback', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const open = await startServer(engine, { host: '0.0.0.0', staticDir: dir });
      await open.close();
      expect(write.mock.calls.map((c) => String(c[0])).join('')).toMatch(/warning: sfa serve is listening on 0\.0\.0\.0, not loopback/);
      write.mockClear();
      const local = await startServer(engine, { staticDir: dir });
      await local.close();
      expect(local.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(write.mock.calls.map((c) => String(c[0])).join('')).not.toMatch(/warning/);
    } finally {
      write.mockRestore();
    }
  });

  it('needs the token on media and upload routes; a query token works only on the first page load', async () => {
    expect((await raw(`/media/${trackId}/vocals`)).status).toBe(401);
    expect((await raw(`/media/${trackId}/vocals?token=${server.token}`)).status).toBe(401);
    expect((await raw(`/api/upload?name=a.wav&token=${server.token}`, {}, 'POST')).status).toBe(401);
    expect((await raw(`/media/${trackId}/vocals`, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await raw(`/media/${trackId}/vocals`, auth())).status).toBe(200);
  });

  it('serves only registered files: traversal, unknown ids and unregistered stems are 404', async () => {
    for (const path of [
      '/media/../secret.txt',
      '/media/%2e%2e/%2e%2e/secret.txt',
      `/media/${trackId}/..%2f..%2f..%2fsecret.txt`,
      `/media/${trackId}/%2e%2e`,
      `/media/${encodeURIComponent(join(dir, 'secret.txt'))}/source`,
      `/media/${trackId}/bass`,
      '/media/no-such-track/source',
      `/media/${trackId}/vocals/extra`,
      '/media/',
      '/media',
    ]) {
      const r = await raw(path, auth());
      expect(r.status, path).toBe(404);
      expect(r.body).not.toContain('top secret');
    }
    expect((await raw(`/media/${trackId}/source`, auth())).status).toBe(200);
  });

  it('refuses a registered stem that was replaced by a symlink leading out of the stems folder', async () => {
    const stem = join(engine.paths.stems, trackId, 'dsp-k', 'drums.wav');
    unlinkSync(stem);
    symlinkSync(join(dir, 'secret.txt'), stem);
    const r = await raw(`/media/${trackId}/drums`, auth());
    expect(r.body).not.toContain('top secret');
    expect(r.status).toBe(404);
  });
});
