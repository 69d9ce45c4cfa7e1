import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngineForTests, type TestEngine } from './test/engine';
import { silentLogger } from './log';
import { startServer, type Server } from './serve';
import { sanitiseFileName } from './serve/upload';

let home: string;
let staticDir: string;
let engine: TestEngine;
let server: Server;

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), 'sfa-serve-'));
  staticDir = join(home, 'renderer');
  mkdirSync(join(staticDir, 'assets'), { recursive: true });
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>SFA</title>');
  writeFileSync(join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  writeFileSync(join(home, 'secret.txt'), 'top secret');
  // As the CLI's serve command opens it: the server still reports itself as 'serve' to browsers.
  engine = await createEngineForTests({ home: join(home, 'data'), host: 'cli', logger: silentLogger });
  server = await startServer(engine, { staticDir, uploadLimit: 1024 });
});

afterAll(async () => {
  await server?.close();
  await engine?.close();
  rmSync(home, { recursive: true, force: true });
});

const auth = () => ({ Authorization: `Bearer ${server.token}` });

/** Raw HTTP (fetch normalises `..` away, which would hide traversal attempts). */
function raw(path: string, headers: Record<string, string> = {}, method = 'GET', body?: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function openSocket(url: string, options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, options);
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

function nextMessage(ws: WebSocket, match: (m: Record<string, unknown>) => boolean = () => true): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const m = JSON.parse(data.toString()) as Record<string, unknown>;
      if (match(m)) {
        ws.off('message', on);
        resolve(m);
      }
    };
    ws.on('message', on);
  });
}

describe('startServer', () => {
  it('listens on loopback with a long random token', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses HTTP without the token (401), and with a wrong one', async () => {
    expect((await fetch(`${server.url}/`)).status).toBe(401);
    expect((await fetch(`${server.url}/assets/app.js`)).status).toBe(401);
    expect((await fetch(`${server.url}/`, { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(`${server.url}/?token=nope`, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(`${server.url}/api/upload?name=a.wav`, { method: 'POST', body: 'x' })).status).toBe(401);
  });

  it('trades ?token= for an HttpOnly cookie and redirects to / without it', async () => {
    const res = await fetch(`${server.url}/?token=${server.token}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const cookie = res.headers.get('set-cookie') ?? '';
    expect(cookie).toContain(`sfa_token=${server.token}`);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await fetch(`${server.url}/`, { headers: { Cookie: `sfa_token=${server.token}` } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>SFA</title>');
  });

  it('serves the renderer with content types and security headers', async () => {
    const page = await fetch(`${server.url}/`, { headers: auth() });
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain('connect-src \'self\' ws://127.0.0.1:*');
    expect(csp).toContain("img-src 'self' data: blob:");
    expect(csp).toContain("media-src 'self' blob:");
    expect(csp).toContain("style-src 'self' 'unsafe-inline'");
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const js = await fetch(`${server.url}/assets/app.js`, { headers: auth() });
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  });

  it('refuses path traversal and lists no directories', async () => {
    for (const path of ['/../secret.txt', '/assets/../../secret.txt', '/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/..%5csecret.txt', '/%00']) {
      const res = await raw(path, auth());
      expect(res.status, path).toBe(404);
      expect(res.body).not.toContain('top secret');
    }
    expect((await raw('/assets', auth())).status).toBe(404);
    expect((await raw('/assets/', auth())).status).toBe(404);
  });

  it('refuses a foreign Host header (DNS rebinding)', async () => {
    const res = await raw('/', { ...auth(), Host: `evil.example:${new URL(server.url).port}` });
    expect(res.status).toBe(421);
  });

  it('stores an upload atomically under uploads/<uuid>/ with a sanitised name', async () => {
    const body = Buffer.from('RIFF fake wav bytes');
    const res = await fetch(`${server.url}/api/upload?name=${encodeURIComponent('../../evil name.wav')}`, { method: 'POST', headers: auth(), body });
    expect(res.status).toBe(200);
    const { path } = (await res.json()) as { path: string };
    expect(dirname(dirname(path))).toBe(engine.paths.uploads);
    expect(path.endsWith('/evil name.wav')).toBe(true);
    expect(readFileSync(path)).toEqual(body);
    expect(readdirSync(dirname(path))).toEqual(['evil name.wav']);
  });

  it('refuses an upload over the limit with 413 and leaves nothing behind', async () => {
    const before = readdirSync(engine.paths.uploads).length;
    const res = await fetch(`${server.url}/api/upload?name=big.wav`, { method: 'POST', headers: auth(), body: Buffer.alloc(2048) });
    expect(res.status).toBe(413);
    expect(readdirSync(engine.paths.uploads).length).toBe(before);
  });

  it('removes the part file when the client aborts mid-upload', async () => {
    const before = new Set(readdirSync(engine.paths.uploads));
    const u = new URL(server.url);
    const req = httpRequest({ host: u.hostname, port: u.port, path: '/api/upload?name=cut.wav', method: 'POST', headers: { ...auth(), 'Content-Length': '1000' } });
    req.on('error', () => {});
    req.write(Buffer.alloc(100));
    await new Promise((r) => setTimeout(r, 150));
    const during = readdirSync(engine.paths.uploads).filter((d) => !before.has(d));
    expect(during.length).toBe(1);
    expect(readdirSync(join(engine.paths.uploads, during[0]!))).toEqual(['cut.wav.part']);
    req.destroy();
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(join(engine.paths.uploads, during[0]!))).toBe(false);
  });

  it('refuses a WebSocket without the token (401) or from another origin (403)', async () => {
    const ws = server.url.replace('http:', 'ws:') + '/ws';
    await expect(openSocket(ws)).rejects.toThrow('HTTP 401');
    await expect(openSocket(`${ws}?token=wrong`)).rejects.toThrow('HTTP 401');
    await expect(openSocket(`${ws}?token=${server.token}`, { origin: 'http://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(openSocket(`${ws}?token=${server.token}`, { origin: 'http://127.0.0.1:1' })).rejects.toThrow('HTTP 403');
  });

  it('answers a WebSocket request with the contract Reply, by cookie from the own origin', async () => {
    const ws = await openSocket(server.url.replace('http:', 'ws:') + '/ws', { origin: server.url, headers: { Cookie: `sfa_token=${server.token}` } });
    try {
      const reply = nextMessage(ws, (m) => m.id === 7);
      ws.send(JSON.stringify({ id: 7, name: 'system.info', params: {} }));
      expect(await reply).toMatchObject({ id: 7, reply: { ok: true, result: { host: 'serve', canPassPaths: false } } });

      const bad = nextMessage(ws, (m) => m.id === 'b');
      ws.send(JSON.stringify({ id: 'b', name: 'library.get', params: { id: '' } }));
      expect(await bad).toMatchObject({ id: 'b', reply: { ok: false, error: { code: 'BAD_REQUEST' } } });

      const unknown = nextMessage(ws, (m) => m.id === 'u');
      ws.send(JSON.stringify({ id: 'u', name: 'rm -rf', params: {} }));
      expect(await unknown).toMatchObject({ reply: { ok: false, error: { code: 'UNKNOWN_REQUEST' } } });

      const garbage = nextMessage(ws, (m) => m.id === null);
      ws.send('not json');
      expect(await garbage).toMatchObject({ reply: { ok: false, error: { code: 'BAD_REQUEST' } } });
    } finally {
      ws.close();
    }
  });

  it('pushes engine events to connected sockets', async () => {
    const ws = await openSocket(`${server.url.replace('http:', 'ws:')}/ws?token=${server.token}`);
    try {
      const event = nextMessage(ws, (m) => 'event' in m);
      engine.events.emit('library:changed', { ids: ['t1'] });
      expect(await event).toEqual({ event: 'library:changed', payload: { ids: ['t1'] } });
    } finally {
      ws.close();
    }
  });
});

describe('sanitiseFileName', () => {
  it('keeps a plain name and strips folders, control characters and leading dots', () => {
    expect(sanitiseFileName('song.wav')).toBe('song.wav');
    expect(sanitiseFileName('a/b\\c.flac')).toBe('c.flac');
    expect(sanitiseFileName('..')).toBe('upload');
    expect(sanitiseFileName('.hidden.mp3')).toBe('hidden.mp3');
    expect(sanitiseFileName('x\u0000y\n.wav')).toBe('x_y_.wav');
    expect(sanitiseFileName(null)).toBe('upload');
    const long = sanitiseFileName(`${'a'.repeat(300)}.wav`);
    expect(long.length).toBe(200);
    expect(long.endsWith('.wav')).toBe(true);
  });
});
