/**
 * The renderer's Content Security Policy, one builder for both hosts (Electron's app:// protocol
 * and `sfa serve`). Pure: no node, no electron, so it is unit-tested as is.
 */
export interface CspOptions {
  /** Extra `connect-src` sources, e.g. `ws://127.0.0.1:*` for the serve host's WebSocket. */
  connect?: string[];
  /** Vite's dev server injects inline scripts and opens an HMR socket. */
  dev?: boolean;
  /** Extra origins audio may come from (Electron's dev mode: media stays on app://sfa). */
  media?: string[];
}

export function contentSecurityPolicy(options: CspOptions = {}): string {
  const connect = ["'self'", ...(options.connect ?? [])];
  const script = ["'self'"];
  if (options.dev) {
    script.push("'unsafe-inline'");
    connect.push('ws:', 'http://localhost:*', 'http://127.0.0.1:*');
  }
  return [
    "default-src 'self'",
    `script-src ${script.join(' ')}`,
    `connect-src ${connect.join(' ')}`,
    "img-src 'self' data: blob:",
    `media-src ${["'self'", 'blob:', ...(options.media ?? [])].join(' ')}`,
    "style-src 'self' 'unsafe-inline'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** Headers every renderer response carries, whichever host serves it. */
export function securityHeaders(csp: string): Record<string, string> {
  return {
    'Content-Security-Policy': csp,
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'X-Frame-Options': 'DENY',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}
