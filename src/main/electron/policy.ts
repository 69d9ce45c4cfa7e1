/**
 * The Electron host's security decisions as pure functions (no electron import), so vitest can
 * check them; `security.ts` wires them into Electron.
 *
 * The renderer is loaded from our own privileged scheme, `app://sfa/` (not file://, which would
 * give the page every local file as "same origin"), or from electron-vite's dev server in dev.
 */
import { APP_HOST, APP_ORIGIN, APP_SCHEME, IPC_CHANNELS } from '../../shared/desktop';
import { contentSecurityPolicy } from '../security/csp';

export { APP_HOST, APP_ORIGIN, APP_SCHEME };
export const APP_URL = `${APP_ORIGIN}/`;

/** The contract's two channels (every channel name lives in src/shared/desktop.ts). */
export const REQUEST_CHANNEL = IPC_CHANNELS.request;
export const EVENT_CHANNEL = IPC_CHANNELS.event;

function originOf(url: string): string | null {
  try {
    const u = new URL(url);
    // URL gives "null" as the origin of non-special schemes: build it ourselves.
    return `${u.protocol}//${u.host}`;
  } catch {
    return null;
  }
}

/** True for our renderer's own pages: app://sfa/... or, in dev, the dev server's origin. */
export function isAppUrl(url: string, devServerUrl?: string): boolean {
  const origin = originOf(url);
  if (!origin) return false;
  if (origin === APP_ORIGIN) return true;
  return !!devServerUrl && origin === originOf(devServerUrl) && /^https?:$/.test(new URL(url).protocol);
}

/**
 * Whether the window may navigate to `url`: only within our own app (a reload, a hash change).
 * Everything else (links in tag text, a dropped file's file:// URL) is refused.
 */
export function isNavigationAllowed(url: string, devServerUrl?: string): boolean {
  return isAppUrl(url, devServerUrl);
}

/**
 * Whether an IPC message may be served: it must come from the main frame of our window (not an
 * iframe, not another window) showing our own app.
 */
export function isTrustedSender(
  sender: { frameUrl: string | null | undefined; isMainFrame: boolean; fromOurWindow: boolean },
  devServerUrl?: string,
): boolean {
  return sender.fromOurWindow && sender.isMainFrame && !!sender.frameUrl && isAppUrl(sender.frameUrl, devServerUrl);
}

/** Whether a link the page tries to open may go to the user's browser: https only, well-formed. */
export function isExternalLinkAllowed(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && !!u.hostname && !u.username && !u.password && url.length <= 2048;
  } catch {
    return false;
  }
}

/**
 * The CSP the Electron window's documents carry. Dev allows Vite's inline preamble and HMR, and
 * audio from app://sfa: the page comes from the dev server while media stays on our scheme.
 */
export function electronCsp(dev: boolean): string {
  return dev ? contentSecurityPolicy({ dev, media: [APP_ORIGIN], connect: [APP_ORIGIN] }) : contentSecurityPolicy({ dev });
}

/**
 * Permissions a page may get: only writing to the clipboard ("Copy diagnostics"), and only for
 * our own app's pages. Everything else (camera, notifications, reading the clipboard...) is refused.
 */
export function isPermissionAllowed(permission: string, requestingUrl: string | null | undefined, devServerUrl?: string): boolean {
  return permission === 'clipboard-sanitized-write' && !!requestingUrl && isAppUrl(requestingUrl, devServerUrl);
}

/** The `webPreferences` every window gets; tested so a refactor cannot drop one silently. */
export function secureWebPreferences(preload: string) {
  return {
    preload,
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
    // Middle-click would open links in a new window; setWindowOpenHandler denies those anyway.
    disableBlinkFeatures: 'Auxclick',
  } as const;
}
