/**
 * Security glue for the Electron host: the app:// protocol, CSP, navigation, new windows,
 * permissions, webviews. Decisions live in `policy.ts` (pure, unit-tested); this wires them in.
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { app, protocol, shell, type Session, type WebContents } from 'electron';
import { mediaHeaders, parseMediaPath, parseRange, type MediaEntry } from '../media/lookup';
import { securityHeaders } from '../security/csp';
import { contentTypeFor, resolveStaticPath } from '../security/static-files';
import { APP_HOST, APP_SCHEME, electronCsp, isExternalLinkAllowed, isNavigationAllowed, isPermissionAllowed } from './policy';

/** Must run before `app.ready`: makes app:// a standard, secure origin (fetch, storage work). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    // corsEnabled: in dev the page comes from Vite's server and fetches audio from app://sfa/media.
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true, corsEnabled: true } },
  ]);
}

/**
 * Serves the built renderer folder on app://sfa/ with the CSP; nothing outside the folder. And
 * app://sfa/media/<trackId>/<stem|source> through the engine's one media lookup (`Engine.media`:
 * registered files only, stems confined to the library's stems folder), with Range. In dev the
 * page comes from Vite's server, so media responses allow that origin (CORS).
 */
export function serveRenderer(session: Session, rendererDir: string, media: (trackId: string, which: string) => MediaEntry | null, devServerUrl?: string): void {
  const headers = securityHeaders(electronCsp(false));
  const cors: Record<string, string> = devServerUrl ? { 'Access-Control-Allow-Origin': new URL(devServerUrl).origin } : {};
  session.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host === APP_HOST && url.pathname.startsWith('/media/')) {
      const parsed = parseMediaPath(url.pathname);
      const file = parsed ? media(parsed.trackId, parsed.which) : null;
      if (!file) return new Response('Not found', { status: 404, headers: cors });
      try {
        const size = file.size;
        const range = parseRange(request.headers.get('range'), size);
        if (range === 'unsatisfiable') return new Response('Range not satisfiable', { status: 416, headers: { ...cors, 'Content-Range': `bytes */${size}` } });
        const body = Readable.toWeb(createReadStream(file.path, range ? { start: range.start, end: range.end } : {})) as ReadableStream;
        return new Response(body, { status: range ? 206 : 200, headers: { ...headers, ...cors, ...mediaHeaders(file, size, range, url.searchParams.get('download') === '1') } });
      } catch {
        return new Response('Not found', { status: 404, headers: cors });
      }
    }
    const file = url.host === APP_HOST ? resolveStaticPath(rendererDir, url.pathname) : null;
    if (!file) return new Response('Not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, { status: 200, headers: { ...headers, 'Content-Type': contentTypeFor(file) } });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}

/** Session-wide: deny every permission but clipboard writes from our own pages; add the CSP to dev-server responses. */
export function hardenSession(session: Session, devServerUrl?: string): void {
  session.setPermissionRequestHandler((contents, permission, callback, details) =>
    callback(isPermissionAllowed(permission, details?.requestingUrl ?? contents?.getURL(), devServerUrl)),
  );
  session.setPermissionCheckHandler((_contents, permission, requestingOrigin) => isPermissionAllowed(permission, requestingOrigin, devServerUrl));
  session.setDevicePermissionHandler(() => false);
  if (devServerUrl) {
    const csp = electronCsp(true);
    session.webRequest.onHeadersReceived((details, callback) => {
      callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
    });
  }
}

/** Every web contents the app creates: no navigation away, no new windows, no webviews. */
export function hardenContents(devServerUrl?: string): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isNavigationAllowed(url, devServerUrl)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isNavigationAllowed(url, devServerUrl)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      // Links to the web open in the user's browser, never inside the app.
      if (isExternalLinkAllowed(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}
