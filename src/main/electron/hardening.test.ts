/**
 * The Electron host's security settings, checked without the Electron binary: the pure policy
 * module, and the wiring in electron/app.ts / security.ts read as source (so a refactor that drops a
 * flag or a handler fails here, and `npm run lint:electron` sees the same literals).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../test/fixtures';
import { isInsideRealPath } from '../security/static-files';
import { electronCsp, isAppUrl, isExternalLinkAllowed, isNavigationAllowed, isPermissionAllowed, isTrustedSender, secureWebPreferences } from './policy';

const source = (file: string) => readFileSync(join(repoRoot, 'src/main', file), 'utf8');

describe('Electron hardening', () => {
  it('webPreferences: isolated, sandboxed, no node anywhere, no webviews, no insecure content, no auxclick', () => {
    expect(secureWebPreferences('/p.cjs')).toEqual({
      preload: '/p.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
      disableBlinkFeatures: 'Auxclick',
    });
    // The window is created with these preferences, the flags repeated as literals.
    const index = source('electron/app.ts');
    expect(index).toMatch(/webPreferences: \{ \.\.\.secureWebPreferences\(options\.preload\), contextIsolation: true, sandbox: true, nodeIntegration: false/);
    expect(index).not.toMatch(/contextIsolation: false|sandbox: false|nodeIntegration: true|webSecurity: false/);
  });

  it('strict CSP: no eval, no inline script, no plugins, no framing, no base or form targets', () => {
    const csp = electronCsp(false);
    for (const directive of ["default-src 'self'", "script-src 'self';", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'none'"]) {
      expect(csp).toContain(directive);
    }
    expect(csp).not.toMatch(/unsafe-eval|script-src[^;]*unsafe-inline|\*/);
  });

  it('navigation: only the app itself; file:, javascript:, data:, other hosts and look-alikes refused', () => {
    for (const url of [
      'file:///etc/passwd',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'https://evil.example/',
      'app://sfa.evil/',
      'app://evil/',
      'app://sfa@evil/',
      'http://localhost:5173/',
      'about:blank',
      'chrome://settings',
      'blob:app://sfa/uuid',
      '',
    ]) {
      expect(isNavigationAllowed(url), url).toBe(false);
    }
    expect(isNavigationAllowed('app://sfa/#/track/1')).toBe(true);
    expect(isAppUrl('http://localhost:5173/x', 'http://localhost:5173')).toBe(true);
    expect(isAppUrl('ws://localhost:5173/', 'http://localhost:5173')).toBe(false);
  });

  it('window.open: denied; only well-formed https links go to the user’s browser', () => {
    expect(isExternalLinkAllowed('https://open.spotify.com/track/1')).toBe(true);
    for (const url of ['http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'https://user:pw@host/', `https://x.com/${'a'.repeat(3000)}`, 'not a url', 'ms-msdt:/id']) {
      expect(isExternalLinkAllowed(url), url).toBe(false);
    }
    const security = source('electron/security.ts');
    expect(security).toMatch(/setWindowOpenHandler\([\s\S]*?return \{ action: 'deny' \}/);
    expect(security).toMatch(/will-navigate[\s\S]*?preventDefault/);
    expect(security).toMatch(/will-redirect[\s\S]*?preventDefault/);
    expect(security).toMatch(/will-attach-webview', \(event\) => event\.preventDefault\(\)/);
  });

  it('permission requests and checks are denied but clipboard writes from our own pages; device access too', () => {
    expect(isPermissionAllowed('clipboard-sanitized-write', 'app://sfa/')).toBe(true);
    expect(isPermissionAllowed('clipboard-sanitized-write', 'http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    for (const [permission, url] of [['clipboard-sanitized-write', 'https://evil.example/'], ['clipboard-sanitized-write', 'app://sfa.evil/'], ['clipboard-sanitized-write', ''], ['clipboard-read', 'app://sfa/'], ['media', 'app://sfa/'], ['notifications', 'app://sfa/']]) {
      expect(isPermissionAllowed(permission!, url), `${permission} ${url}`).toBe(false);
    }
    const security = source('electron/security.ts');
    expect(security).toMatch(/setPermissionRequestHandler\([\s\S]*?callback\(isPermissionAllowed\(/);
    expect(security).toMatch(/setPermissionCheckHandler\([\s\S]*?=> isPermissionAllowed\(/);
    expect(security).toMatch(/setDevicePermissionHandler\(\(\) => false\)/);
  });

  it('IPC is served only to the main frame of our window showing our app', () => {
    const ok = { frameUrl: 'app://sfa/index.html', isMainFrame: true, fromOurWindow: true };
    expect(isTrustedSender(ok)).toBe(true);
    for (const frameUrl of ['app://sfa.evil/', 'file:///x', 'data:text/html,x', 'about:blank', '']) expect(isTrustedSender({ ...ok, frameUrl }), frameUrl).toBe(false);
    expect(source('electron/app.ts')).toMatch(/if \(!trusted\(event\)\) return \{ ok: false, error: \{ code: 'FORBIDDEN'/);
    // Raw ipcMain use stays in electron/app.ts; the engine never imports electron.
    expect(source('engine.ts')).not.toMatch(/from 'electron'/);
  });

  it('app://sfa/media serves stems only when they resolve inside the library (links followed)', () => {
    const t = tempDir('sfa-confine-');
    try {
      const stems = join(t.dir, 'home', 'media', 'stems');
      mkdirSync(join(stems, 't1'), { recursive: true });
      writeFileSync(join(stems, 't1', 'vocals.wav'), 'x');
      writeFileSync(join(t.dir, 'secret.txt'), 'x');
      symlinkSync(join(t.dir, 'secret.txt'), join(stems, 't1', 'drums.wav'));
      symlinkSync(t.dir, join(stems, 't1', 'up'));
      expect(isInsideRealPath(stems, join(stems, 't1', 'vocals.wav'))).toBe(true);
      expect(isInsideRealPath(stems, join(stems, 't1', 'drums.wav'))).toBe(false);
      expect(isInsideRealPath(stems, join(stems, 't1', 'up', 'secret.txt'))).toBe(false);
      expect(isInsideRealPath(stems, join(stems, 't1', '..', '..', '..', 'secret.txt'))).toBe(false);
      expect(isInsideRealPath(stems, join(stems, 'missing.wav'))).toBe(false);
      expect(isInsideRealPath(stems, stems)).toBe(false);
    } finally {
      t.cleanup();
    }
    // The Electron host's routes use the engine's one media lookup, which applies it (app.test.ts
    // checks the app:// route end to end; the media URL itself never carries a path).
    expect(source('electron/app.ts')).toContain('(trackId, which) => engine?.media(trackId, which) ?? null');
  });
});
