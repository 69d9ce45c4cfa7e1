/**
 * The Electron host: one window over the engine, the contract over IPC. The only engine-side file
 * (with `electron/`) that imports electron. Security glue lives in `electron/security.ts`.
 */
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, dialog, ipcMain, nativeImage, safeStorage, session, shell } from 'electron';
import type { EventName, Events } from '../shared/contract';
import { toErrorInfo } from '../shared/errors';
import { createEngine, type Engine } from './engine';
import { secretStoreFor, type SecretCipher } from './secrets';
import { DESKTOP_CHANNELS, registeredFile } from './electron/desktop';
import { resolveMedia } from './media/lookup';
import { isInsideRealPath } from './security/static-files';
import { APP_URL, EVENT_CHANNEL, REQUEST_CHANNEL, isTrustedSender, secureWebPreferences } from './electron/policy';
import { hardenContents, hardenSession, registerAppScheme, serveRenderer } from './electron/security';

if (app.isPackaged) process.env.SFA_APP_ROOT ??= process.resourcesPath;

const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;
const preload = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererDir = fileURLToPath(new URL('../renderer/', import.meta.url));

let engine: Engine | null = null;
// A 1x1 transparent PNG: startDrag needs an icon; the OS shows the file's own.
const DRAG_ICON = () => nativeImage.createFromDataURL('data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=');
let window: BrowserWindow | null = null;

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 800,
    minHeight: 520,
    backgroundColor: '#121418',
    title: 'Sound Forge Alchemy',
    show: false,
    // The flags repeat secureWebPreferences (policy.test.ts checks both agree) as literals, so
    // static checkers (`npm run lint:electron`, electronegativity) can see them.
    webPreferences: { ...secureWebPreferences(preload), contextIsolation: true, sandbox: true, nodeIntegration: false, disableBlinkFeatures: 'Auxclick' },
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (window === win) window = null;
  });
  void win.loadURL(devServerUrl ?? APP_URL);
  return win;
}

function wireIpc(current: Engine): void {
  ipcMain.handle(REQUEST_CHANNEL, (event, name: unknown, params: unknown) => {
    const frame = event.senderFrame;
    const trusted = isTrustedSender(
      // A top-level frame has no parent; iframes (none expected) and other windows are refused.
      { frameUrl: frame?.url, isMainFrame: !!frame && frame.parent === null, fromOurWindow: !!window && event.sender === window.webContents },
      devServerUrl,
    );
    if (!trusted) return { ok: false, error: { code: 'FORBIDDEN', message: 'Requests are only served to the app window.' } };
    return current.api.handle(name, params);
  });
  // Stems must resolve (links followed) inside the library's stems folder; the source is the user's own file.
  const lookup = (trackId: string, which: string) => {
    const file = resolveMedia(current.trackDetail, trackId, which);
    return file && (which === 'source' || isInsideRealPath(current.paths.stems, file.path)) ? file : null;
  };
  const fromWindow = (sender: Electron.WebContents) => !!window && sender === window.webContents;
  // Drag a stem lane out to the desktop or a DAW: the renderer names it, we resolve the path.
  ipcMain.on(DESKTOP_CHANNELS.startDrag, (event, trackId: unknown, stem: unknown) => {
    const file = fromWindow(event.sender) ? registeredFile(lookup, trackId, stem) : null;
    if (file) event.sender.startDrag({ file, icon: DRAG_ICON() });
  });
  ipcMain.handle(DESKTOP_CHANNELS.reveal, (event, trackId: unknown, stem: unknown) => {
    const file = fromWindow(event.sender) ? registeredFile(lookup, trackId, stem) : null;
    if (file) shell.showItemInFolder(file);
    return !!file;
  });
  ipcMain.handle(DESKTOP_CHANNELS.chooseFolder, async (event) => {
    if (!window || !fromWindow(event.sender)) return null;
    const picked = await dialog.showOpenDialog(window, { properties: ['openDirectory', 'createDirectory'], title: 'Export stems to…' });
    return picked.canceled ? null : (picked.filePaths[0] ?? null);
  });
  current.events.subscribe(<E extends EventName>(name: E, payload: Events[E]) => {
    if (window && !window.webContents.isDestroyed()) window.webContents.send(EVENT_CHANNEL, name, payload);
  });
}

/**
 * Electron's safeStorage: a key kept by the OS credential store (Keychain, DPAPI, libsecret or
 * kwallet). Linux without a keyring falls back to a fixed key ("basic_text"): no better than the
 * private file, so the engine's file store is used instead.
 */
function osCipher(): SecretCipher | null {
  if (!safeStorage.isEncryptionAvailable()) return null;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return null;
  return { encryptString: (plain) => safeStorage.encryptString(plain), decryptString: (data) => safeStorage.decryptString(data) };
}

async function start(): Promise<void> {
  hardenSession(session.defaultSession, devServerUrl);
  serveRenderer(session.defaultSession, rendererDir, (trackId, which) => (engine ? resolveMedia(engine.trackDetail, trackId, which) : null));
  try {
    const home = app.getPath('userData');
    engine = await createEngine({ home, host: 'electron', canPassPaths: true, runQueues: true, secrets: secretStoreFor(home, osCipher()) });
  } catch (error) {
    const info = toErrorInfo(error);
    dialog.showErrorBox('Sound Forge Alchemy cannot start', info.message);
    app.exit(1);
    return;
  }
  wireIpc(engine);
  window = createWindow();
  void engine.prewarm();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  registerAppScheme();
  hardenContents(devServerUrl);
  app.on('second-instance', () => {
    if (!window) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('activate', () => {
    if (engine && !window) window = createWindow();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  let closing = false;
  app.on('will-quit', (event) => {
    if (!engine || closing) return;
    closing = true;
    event.preventDefault();
    void engine.close().finally(() => {
      engine = null;
      app.quit();
    });
  });
  void app.whenReady().then(start);
}
