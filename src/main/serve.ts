/**
 * The browser host: the React UI and the contract over HTTP + WebSocket, for headless machines
 * and for end-to-end tests. Loopback by default; every request needs the run's token (see
 * `serve/auth.ts` for how it travels). The engine is the caller's: `close()` stops serving only.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import type { Engine } from './engine';
import { appRoot } from './paths';
import { contentSecurityPolicy, securityHeaders } from './security/csp';
import { contentTypeFor, resolveStaticPath } from './security/static-files';
import { hostAllowed, isAuthorized, isLoopbackHost, newToken, originAllowed, tokenCookie } from './serve/auth';
import { mediaHeaders, parseMediaPath, parseRange } from './media/lookup';
import { homePaths } from './home';
import type { SystemInfo } from '../shared/contract';
import { SfaError } from '../shared/errors';
import { attachSocket } from './serve/socket';
import { DEFAULT_UPLOAD_LIMIT, UploadError, receiveUpload } from './serve/upload';

export interface ServeOptions {
  host?: string;
  port?: number;
  /** The built renderer; default `<appRoot>/out/renderer`. */
  staticDir?: string;
  /** Largest accepted upload in bytes; default 2 GiB. */
  uploadLimit?: number;
  /** Fixed token (tests); default a fresh random one. */
  token?: string;
}

export interface Server {
  /** The base URL, e.g. `http://127.0.0.1:43125`; open `${url}/?token=${token}` in a browser. */
  url: string;
  token: string;
  close(): Promise<void>;
}

export const WS_PATH = '/ws';
const MAX_WS_MESSAGE = 4 * 1024 * 1024;

export async function startServer(engine: Pick<Engine, 'api' | 'events' | 'media'>, options: ServeOptions = {}): Promise<Server> {
  const host = options.host ?? '127.0.0.1';
  const loopback = isLoopbackHost(host);
  if (!loopback) {
    process.stderr.write(
      `warning: sfa serve is listening on ${host}, not loopback: anyone who can reach this address and learns the token controls the app (traffic is not encrypted).\n`,
    );
  }
  const staticDir = options.staticDir ?? join(appRoot(), 'out', 'renderer');
  const uploadLimit = options.uploadLimit ?? DEFAULT_UPLOAD_LIMIT;
  const token = options.token ?? newToken();
  // Uploads go to the library's uploads folder; the engine says where its library is.
  const info = await engine.api.handle('system.info', {});
  if (!info.ok) throw new SfaError(info.error.code, info.error.message);
  const uploadsDir = homePaths((info.result as SystemInfo).home).uploads;
  let port = 0;

  const wsSources = loopback ? ['ws://127.0.0.1:*', 'ws://localhost:*'] : [`ws://${host.includes(':') ? `[${host}]` : host}:*`];
  const headers = securityHeaders(contentSecurityPolicy({ connect: wsSources }));

  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...headers, 'Content-Type': type, 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  };
  const sendJson = (res: ServerResponse, status: number, body: unknown) => send(res, status, JSON.stringify(body), 'application/json; charset=utf-8');

  const serveStatic = async (res: ServerResponse, urlPath: string, method: string) => {
    const file = resolveStaticPath(staticDir, urlPath);
    if (!file) return send(res, 404, 'Not found');
    let info;
    try {
      info = await stat(file);
    } catch {
      info = null;
    }
    if (!info?.isFile()) {
      if (urlPath === '/') return send(res, 503, 'The UI is not built yet: run `npm run build`, then reload.');
      return send(res, 404, 'Not found');
    }
    const isHtml = file.endsWith('.html');
    res.writeHead(200, {
      ...headers,
      'Content-Type': contentTypeFor(file),
      'Content-Length': String(info.size),
      'Cache-Control': isHtml ? 'no-store' : 'no-cache',
    });
    if (method === 'HEAD') return res.end();
    createReadStream(file).on('error', () => res.destroy()).pipe(res);
  };

  /** `/media/<trackId>/<stem|source>[?download=1]`: only files registered in the library, with Range. */
  const serveMedia = async (req: IncomingMessage, res: ServerResponse, url: URL, method: string) => {
    // The engine's one lookup: registered files only, stems confined to the stems folder, regular files.
    const parsed = parseMediaPath(url.pathname);
    const file = parsed ? engine.media(parsed.trackId, parsed.which) : null;
    if (!file) return send(res, 404, 'Not found: no such track or stem in the library, or its file is missing.');
    const size = file.size;
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') return send(res, 416, 'Range not satisfiable', undefined, { 'Content-Range': `bytes */${size}` });
    res.writeHead(range ? 206 : 200, { ...headers, ...mediaHeaders(file, size, range, url.searchParams.get('download') === '1') });
    if (method === 'HEAD') return res.end();
    createReadStream(file.path, range ? { start: range.start, end: range.end } : {})
      .on('error', () => res.destroy())
      .pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const method = req.method ?? 'GET';
    if (!hostAllowed(req.headers.host, port, loopback)) return send(res, 421, 'Misdirected request: unknown Host.');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);

    // Opening `/?token=...` trades the token for a cookie, then drops it from the address bar.
    const queryToken = url.searchParams.get('token');
    if (method === 'GET' && url.pathname === '/' && queryToken !== null) {
      if (!isAuthorized(req, url, token, { allowQuery: true })) return send(res, 401, 'Unauthorized: the token is wrong (it changes each time `sfa serve` starts).');
      url.searchParams.delete('token');
      return send(res, 303, 'See /', 'text/plain; charset=utf-8', { Location: `/${url.search}`, 'Set-Cookie': tokenCookie(token) });
    }
    if (!isAuthorized(req, url, token, { allowQuery: false })) {
      return send(res, 401, 'Unauthorized: open the URL with ?token=... that `sfa serve` printed, or send Authorization: Bearer <token>.');
    }

    if (url.pathname === '/api/upload') {
      if (method !== 'POST') return send(res, 405, 'Method not allowed', undefined, { Allow: 'POST' });
      if (!originAllowed(req.headers.origin, req.headers.host)) return send(res, 403, 'Forbidden: cross-origin upload.');
      try {
        const path = await receiveUpload(req, uploadsDir, url.searchParams.get('name'), uploadLimit);
        return sendJson(res, 200, { path });
      } catch (error) {
        if (error instanceof UploadError) {
          res.setHeader('Connection', 'close');
          return sendJson(res, error.status, { error: { code: error.code, message: error.message } });
        }
        throw error;
      }
    }
    if (method !== 'GET' && method !== 'HEAD') return send(res, 405, 'Method not allowed', undefined, { Allow: 'GET, HEAD' });
    if (url.pathname.startsWith('/media/')) return serveMedia(req, res, url, method);
    return serveStatic(res, url.pathname, method);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      process.stderr.write(`sfa serve: ${req.method} ${req.url}: ${(error as Error)?.stack ?? String(error)}\n`);
      if (!res.headersSent) send(res, 500, 'Internal error');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_WS_MESSAGE });
  server.on('upgrade', (req, socket, head) => {
    const refuse = (status: number, text: string) => {
      socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${text.length}\r\n\r\n${text}`);
    };
    socket.on('error', () => socket.destroy());
    if (!hostAllowed(req.headers.host, port, loopback)) return refuse(421, 'Misdirected Request');
    const url = new URL(req.url ?? '/', `http://${req.headers.host}`);
    if (url.pathname !== WS_PATH) return refuse(404, 'Not Found');
    if (!originAllowed(req.headers.origin, req.headers.host)) return refuse(403, 'Forbidden');
    if (!isAuthorized(req, url, token, { allowQuery: true })) return refuse(401, 'Unauthorized');
    wss.handleUpgrade(req, socket, head, (ws) => attachSocket(ws, engine));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
