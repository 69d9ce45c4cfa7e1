/**
 * The Electron host: one window over the engine, the contract over IPC, files the OS hands us
 * (file associations) through `library.add`. Only this folder and `index.ts` import electron.
 * Security glue lives in `security.ts`, decisions in `policy.ts`; tests fake the `electron`
 * module (app.test.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BrowserWindow, app, dialog, ipcMain, nativeImage, safeStorage, session, shell, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import { electronSqlitePath, missingElectronSqliteMessage, nativeCacheDir } from '../../../scripts/native.mjs';
import type { EventName, Events } from '../../shared/contract';
import { IPC_CHANNELS } from '../../shared/desktop';
import { toErrorInfo } from '../../shared/errors';
import { createEngine as createRealEngine, type Engine, type EngineOptions } from '../engine';
import { defaultHome } from '../home';
import { appRoot } from '../paths';
import { secretStoreFor, type SecretCipher } from '../secrets';
import { filesFromArgv, registeredFile } from './desktop';
import { APP_URL, isTrustedSender, secureWebPreferences } from './policy';
import { hardenContents, hardenSession, registerAppScheme, serveRenderer } from './security';

export interface DesktopOptions {
  /** The built preload and renderer. */
  preload: string;
  rendererDir: string;
  /** Tests pass a fake; default the real engine. */
  createEngine?: (options: EngineOptions) => Promise<Engine>;
  /** The Electron version we run under (default process.versions.electron). */
  electronVersion?: string;
  /** Where setup put the Electron-ABI better-sqlite3 (default scripts/native.mjs's folder). */
  nativeDir?: string;
  /** The command line (default process.argv) and whether it starts with the app folder (`electron .`). */
  argv?: readonly string[];
  defaultApp?: boolean;
  /** Where problems are written (default stderr). */
  log?: (message: string) => void;
}

/**
 * Which better-sqlite3 binary the desktop app loads: a packaged app has one rebuilt for Electron
 * by electron-builder (the default); an unpackaged one (`npm start`) needs the Electron-ABI build
 * setup made beside npm's Node build. Null path: the default. An error: what to do.
 */
export function sqliteBindingFor(options: { isPackaged: boolean; electronVersion?: string; nativeDir?: string; exists?: (path: string) => boolean }): { path?: string } | { error: string } {
  if (options.isPackaged || !options.electronVersion) return {};
  const path = electronSqlitePath(options.electronVersion, { dir: options.nativeDir ?? nativeCacheDir(appRoot()) });
  return (options.exists ?? existsSync)(path) ? { path } : { error: missingElectronSqliteMessage(options.electronVersion) };
}

/** The drag-out image: the app's icon, small (startDrag needs one; a 1x1 transparent image shows nothing). */
function dragIcon(): Electron.NativeImage {
  const icon = nativeImage.createFromPath(join(appRoot(), 'resources', 'icon.png'));
  return icon.isEmpty() ? icon : icon.resize({ width: 64, height: 64 });
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

export function runDesktop(options: DesktopOptions): void {
  const log = options.log ?? ((message: string) => process.stderr.write(`sfa: ${message}\n`));
  const makeEngine = options.createEngine ?? createRealEngine;
  if (app.isPackaged) process.env.SFA_APP_ROOT ??= process.resourcesPath;
  const devServerUrl = !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined;

  let engine: Engine | null = null;
  let window: BrowserWindow | null = null;
  /** Files the OS asked us to open before the engine was up. */
  const pendingFiles: string[] = [];

  /** A startup or load failure is shown, not left as an invisible window. */
  const fail = (title: string, error: unknown) => {
    const message = toErrorInfo(error).message;
    log(`${title}: ${message}`);
    dialog.showErrorBox(title, message);
  };

  const openFiles = (paths: string[]) => {
    if (!paths.length) return;
    if (!engine) {
      pendingFiles.push(...paths);
      return;
    }
    // Each path goes through the contract: validated, imported, pipeline enqueued, UI told by events.
    void engine.api.handle('library.add', { inputs: paths }).then((reply) => {
      if (!reply.ok) log(`could not open ${paths.join(', ')}: ${reply.error.message}`);
      else for (const e of (reply.result as { errors: { input: string; message: string }[] }).errors) log(`could not open ${e.input}: ${e.message}`);
    });
    window?.show();
  };

  /** One check for every IPC handler: the main frame of our window, showing our own app. */
  const trusted = (event: IpcMainEvent | IpcMainInvokeEvent) => {
    const frame = event.senderFrame;
    return isTrustedSender(
      // A top-level frame has no parent; iframes (none expected) and other windows are refused.
      { frameUrl: frame?.url, isMainFrame: !!frame && frame.parent === null, fromOurWindow: !!window && event.sender === window.webContents },
      devServerUrl,
    );
  };

  const createWindow = (): BrowserWindow => {
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
      webPreferences: { ...secureWebPreferences(options.preload), contextIsolation: true, sandbox: true, nodeIntegration: false, disableBlinkFeatures: 'Auxclick' },
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => {
      if (window === win) window = null;
    });
    win.webContents.on('did-fail-load', (_event, code, description, url, isMainFrame) => {
      if (isMainFrame) fail('Sound Forge Alchemy could not load its window', new Error(`${description} (${code}) loading ${url}`));
    });
    win.loadURL(devServerUrl ?? APP_URL).catch((error: unknown) => fail('Sound Forge Alchemy could not load its window', error));
    return win;
  };

  const wireIpc = (current: Engine) => {
    ipcMain.handle(IPC_CHANNELS.request, (event, name: unknown, params: unknown) => {
      if (!trusted(event)) return { ok: false, error: { code: 'FORBIDDEN', message: 'Requests are only served to the app window.' } };
      return current.api.handle(name, params);
    });
    // Drag a stem lane out to the desktop or a DAW: the renderer names it, the engine resolves it.
    ipcMain.on(IPC_CHANNELS.startDrag, (event, trackId: unknown, stem: unknown) => {
      const file = trusted(event) ? registeredFile(current.media, trackId, stem) : null;
      if (file) event.sender.startDrag({ file, icon: dragIcon() });
    });
    ipcMain.handle(IPC_CHANNELS.reveal, (event, trackId: unknown, stem: unknown) => {
      const file = trusted(event) ? registeredFile(current.media, trackId, stem) : null;
      if (file) shell.showItemInFolder(file);
      return !!file;
    });
    ipcMain.handle(IPC_CHANNELS.chooseFolder, async (event) => {
      if (!window || !trusted(event)) return null;
      const picked = await dialog.showOpenDialog(window, { properties: ['openDirectory', 'createDirectory'], title: 'Export stems to…' });
      return picked.canceled ? null : (picked.filePaths[0] ?? null);
    });
    current.events.subscribe(<E extends EventName>(name: E, payload: Events[E]) => {
      if (window && !window.webContents.isDestroyed()) window.webContents.send(IPC_CHANNELS.event, name, payload);
    });
  };

  const start = async (): Promise<void> => {
    hardenSession(session.defaultSession, devServerUrl);
    serveRenderer(session.defaultSession, options.rendererDir, (trackId, which) => engine?.media(trackId, which) ?? null, devServerUrl);
    const binding = sqliteBindingFor({ isPackaged: app.isPackaged, electronVersion: options.electronVersion ?? process.versions.electron, nativeDir: options.nativeDir });
    if ('error' in binding) {
      fail('Sound Forge Alchemy cannot start', new Error(binding.error));
      app.exit(1);
      return;
    }
    try {
      // One library for the desktop app and the CLI: SFA_HOME, else the platform's data folder.
      const home = defaultHome();
      engine = await makeEngine({ home, host: 'electron', canPassPaths: true, runQueues: true, version: app.getVersion(), sqliteBinding: binding.path, secrets: secretStoreFor(home, osCipher()) });
    } catch (error) {
      fail('Sound Forge Alchemy cannot start', error);
      app.exit(1);
      return;
    }
    wireIpc(engine);
    window = createWindow();
    openFiles(pendingFiles.splice(0));
    void engine.prewarm();
  };

  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  registerAppScheme();
  hardenContents(devServerUrl);
  // macOS sends files opened from Finder as `open-file`, possibly before `ready`: listen now.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    openFiles([path]);
  });
  // Windows and Linux pass them on the command line: at first start, and to a second instance.
  openFiles(filesFromArgv(options.argv ?? process.argv, { cwd: process.cwd(), defaultApp: options.defaultApp ?? Boolean(process.defaultApp) }));
  app.on('second-instance', (_event, argv, workingDirectory) => {
    if (window) {
      if (window.isMinimized()) window.restore();
      window.focus();
    }
    openFiles(filesFromArgv(argv, { cwd: workingDirectory, defaultApp: options.defaultApp ?? Boolean(process.defaultApp) }));
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
  app
    .whenReady()
    .then(start)
    .catch((error: unknown) => {
      fail('Sound Forge Alchemy cannot start', error);
      app.exit(1);
    });
}
