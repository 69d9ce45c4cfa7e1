import { describe, expect, it } from 'vitest';
import { contentSecurityPolicy } from '../security/csp';
import { resolveStaticPath } from '../security/static-files';
import { APP_URL, electronCsp, isAppUrl, isNavigationAllowed, isTrustedSender, secureWebPreferences } from './policy';

const DEV = 'http://localhost:5173';

describe('electron policy', () => {
  it('treats only app://sfa (and the dev server in dev) as the app', () => {
    expect(isAppUrl(APP_URL)).toBe(true);
    expect(isAppUrl('app://sfa/index.html#x')).toBe(true);
    expect(isAppUrl('app://other/')).toBe(false);
    expect(isAppUrl('file:///etc/passwd')).toBe(false);
    expect(isAppUrl('https://evil.example/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/')).toBe(false);
    expect(isAppUrl('http://localhost:5173/', DEV)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', DEV)).toBe(false);
    expect(isAppUrl('not a url')).toBe(false);
  });

  it('blocks navigation away from the app', () => {
    expect(isNavigationAllowed('app://sfa/')).toBe(true);
    expect(isNavigationAllowed('https://open.spotify.com/track/x')).toBe(false);
    expect(isNavigationAllowed('file:///home/me/song.wav')).toBe(false);
    expect(isNavigationAllowed('javascript:alert(1)')).toBe(false);
  });

  it('serves IPC only to our window’s main frame showing our app', () => {
    const ok = { frameUrl: 'app://sfa/', isMainFrame: true, fromOurWindow: true };
    expect(isTrustedSender(ok)).toBe(true);
    expect(isTrustedSender({ ...ok, isMainFrame: false })).toBe(false);
    expect(isTrustedSender({ ...ok, fromOurWindow: false })).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: 'https://evil.example/' })).toBe(false);
    expect(isTrustedSender({ ...ok, frameUrl: null })).toBe(false);
  });

  it('keeps the window sandboxed and isolated', () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({ preload: '/p.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });

  it('has a strict CSP, relaxed only in dev', () => {
    const csp = electronCsp(false);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
    expect(electronCsp(true)).toMatch(/script-src 'self' 'unsafe-inline'/);
    expect(contentSecurityPolicy({ connect: ['ws://127.0.0.1:*'] })).toContain("connect-src 'self' ws://127.0.0.1:*");
  });

  it('resolves static paths inside the root only', () => {
    expect(resolveStaticPath('/r', '/')).toBe('/r/index.html');
    expect(resolveStaticPath('/r', '/assets/a.js')).toBe('/r/assets/a.js');
    expect(resolveStaticPath('/r', '/../etc/passwd')).toBeNull();
    expect(resolveStaticPath('/r', '/%2e%2e/etc/passwd')).toBeNull();
    expect(resolveStaticPath('/r', '/a/%2e%2e%2f%2e%2e%2fx')).toBeNull();
    expect(resolveStaticPath('/r', '/..%5cx')).toBeNull();
    expect(resolveStaticPath('/r', '/%E0%A4%A')).toBeNull();
    expect(resolveStaticPath('/r', '/x%00.js')).toBeNull();
  });
});
