import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/**
 * How `sfa serve` authenticates. One random token per server run, printed once on stdout.
 * A request carries it in one of three ways:
 * - `Authorization: Bearer <token>` (scripts, tests);
 * - the `sfa_token` cookie (HttpOnly, SameSite=Strict), set when the browser opens `/?token=...`
 *   (the server then redirects to `/` so the token leaves the address bar and history);
 * - `?token=<token>` on the WebSocket URL (clients that cannot send headers or cookies).
 * The renderer never sees the token: its page and its same-origin WebSocket carry the cookie.
 */
export const TOKEN_COOKIE = 'sfa_token';

export function newToken(): string {
  return randomBytes(24).toString('base64url');
}

export function sameToken(expected: string, given: string | null | undefined): boolean {
  if (!given) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  if (!header) return cookies;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (name && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict`;
}

/** The token a request presents (header, cookie or query), checked against ours. */
export function isAuthorized(req: IncomingMessage, url: URL, token: string, { allowQuery }: { allowQuery: boolean }): boolean {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ') && sameToken(token, auth.slice(7).trim())) return true;
  if (sameToken(token, parseCookies(req.headers.cookie).get(TOKEN_COOKIE))) return true;
  return allowQuery && sameToken(token, url.searchParams.get('token'));
}

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === '::1' || host === 'localhost';
}

/**
 * The Host header must name this server: on a loopback bind only loopback names are accepted,
 * which defeats DNS rebinding (a page on evil.example resolving to 127.0.0.1).
 */
export function hostAllowed(hostHeader: string | undefined, port: number, boundToLoopback: boolean): boolean {
  if (!hostHeader) return false;
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.toLowerCase());
  if (!match) return false;
  if (match[2] !== undefined && Number(match[2]) !== port) return false;
  return !boundToLoopback || LOOPBACK_NAMES.has(match[1]!);
}

/**
 * A browser always sends Origin on a WebSocket upgrade (and on cross-site POSTs): it must be this
 * server's own origin. Non-browser clients (no Origin) still need the token.
 */
export function originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean {
  if (origin === undefined) return true;
  return !!hostHeader && origin.toLowerCase() === `http://${hostHeader.toLowerCase()}`;
}
