/**
 * The desktop host as it will first run, with the `electron` module faked at its boundary (the
 * binary cannot be downloaded here): where the library is, which SQLite binary is loaded, files
 * the OS hands the app, the sender check of every IPC channel, permissions, the drag image, media
 * over app:// (dev included) and failures that must be shown rather than leave an invisible window.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { electronSqlitePath } from '../../../scripts/native.mjs';
import { tempDir } from '../../test/fixtures';
import type { Engine, EngineOptions } from '../engine';
import { defaultHome } from '../home';
import { electronCsp } from './policy';

type Fn = (...args: any[]) => any; // eslint-disable-line @typescript-eslint/no-explicit-any

const fx = vi.hoisted(() => {
  /** A minimal event emitter, as Electron's objects are. */
  const emitter = () => {
    const listeners = new Map<string, Fn[]>();
    return {
      listeners,
      on(name: string, fn: Fn) {
        listeners.set(name, [...(listeners.get(name) ?? []), fn]);
        return this;
      },
      once(name: string, fn: Fn) {
        return this.on(name, fn);
      },
      emit(name: string, ...args: unknown[]) {
        for (const fn of listeners.get(name) ?? []) fn(...args);
      },
    };
  };
  const state = {
    ready: null as null | { resolve: () => void; promise: Promise<void> },
    windows: [] as { webContents: ReturnType<typeof emitter> & Record<string, unknown>; loadURL: Fn; show: Fn }[],
    loadUrl: (() => Promise.resolve()) as Fn,
    handlers: new Map<string, Fn>(),
    listeners: new Map<string, Fn>(),
    protocolHandler: null as Fn | null,
    permissionRequest: null as Fn | null,
    permissionCheck: null as Fn | null,
    protocolThrows: false,
  };
  const app = Object.assign(emitter(), {
    isPackaged: false,
    getVersion: () => '9.8.7',
    requestSingleInstanceLock: () => true,
    quit: vi.fn(),
    exit: vi.fn(),
    whenReady: () => state.ready!.promise,
  });
  class BrowserWindow {
    webContents = Object.assign(emitter(), { send: vi.fn(), isDestroyed: () => false, startDrag: vi.fn() });
    private readonly events = emitter();
    once = this.events.once.bind(this.events);
    on = this.events.on.bind(this.events);
    show = vi.fn();
    focus = vi.fn();
    restore = vi.fn();
    isMinimized = () => false;
    loadURL = vi.fn((url: string) => state.loadUrl(url));
    constructor(readonly options: unknown) {
      state.windows.push(this as never);
    }
  }
  const electron = {
    app,
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: Fn) => state.handlers.set(ch, fn), on: (ch: string, fn: Fn) => state.listeners.set(ch, fn) },
    dialog: { showErrorBox: vi.fn(), showOpenDialog: vi.fn(async () => ({ canceled: false, filePaths: ['/exports'] })) },
    // No OS keyring (a bare Linux session): the engine keeps secrets in its private file store.
    safeStorage: { isEncryptionAvailable: () => false, getSelectedStorageBackend: () => 'basic_text' },
    nativeImage: {
      createFromPath: vi.fn((path: string) => ({ isEmpty: () => false, resize: (size: unknown) => ({ path, size }) })),
      createFromDataURL: vi.fn(),
    },
    session: {
      defaultSession: {
        setPermissionRequestHandler: (fn: Fn) => (state.permissionRequest = fn),
        setPermissionCheckHandler: (fn: Fn) => (state.permissionCheck = fn),
        setDevicePermissionHandler: vi.fn(),
        webRequest: { onHeadersReceived: vi.fn() },
        protocol: {
          handle: (_scheme: string, fn: Fn) => {
            if (state.protocolThrows) throw new Error('protocol already handled');
            state.protocolHandler = fn;
          },
        },
      },
    },
    protocol: { registerSchemesAsPrivileged: vi.fn() },
    shell: { showItemInFolder: vi.fn(), openExternal: vi.fn() },
  };
  return { state, electron, app };
});

vi.mock('electron', () => ({ ...fx.electron, default: fx.electron }));

const { runDesktop } = await import('./app');

const ELECTRON = '41.7.1';
let t: { dir: string; cleanup: () => void };
let created: EngineOptions[];
let engine: { api: { handle: ReturnType<typeof vi.fn> }; events: { subscribe: ReturnType<typeof vi.fn> }; media: ReturnType<typeof vi.fn>; prewarm: Fn; close: Fn };
const savedEnv = { ...process.env };

function freshEngine() {
  return {
    api: { handle: vi.fn(async (name: string) => (name === 'library.add' ? { ok: true, result: { tracks: [], errors: [] } } : { ok: true, result: null })) },
    events: { subscribe: vi.fn(() => () => undefined) },
    media: vi.fn(() => null),
    prewarm: vi.fn(async () => undefined),
    close: vi.fn(async () => undefined),
  };
}

/** Start the host with a fresh fake app; `ready()` fires `app.whenReady` and waits for the window. */
function start(options: { nativeBuild?: boolean; argv?: string[] } = {}) {
  const nativeDir = join(t.dir, 'native');
  mkdirSync(nativeDir, { recursive: true });
  if (options.nativeBuild !== false) writeFileSync(electronSqlitePath(ELECTRON, { dir: nativeDir }), 'binary');
  let resolveReady!: () => void;
  fx.state.ready = { promise: new Promise<void>((r) => (resolveReady = r)), resolve: () => resolveReady() };
  const log = vi.fn();
  runDesktop({
    preload: '/app/out/preload/index.cjs',
    rendererDir: join(t.dir, 'renderer'),
    createEngine: async (o) => (created.push(o), engine as unknown as Engine),
    electronVersion: ELECTRON,
    nativeDir,
    argv: options.argv ?? ['/x/electron', '.'],
    defaultApp: true,
    log,
  });
  return {
    log,
    nativeDir,
    async ready() {
      fx.state.ready!.resolve();
      await vi.waitFor(() => expect(fx.state.windows.length + fx.app.exit.mock.calls.length).toBeGreaterThan(0));
    },
  };
}

beforeEach(() => {
  t = tempDir('sfa-desktop-');
  created = [];
  engine = freshEngine();
  fx.app.listeners.clear();
  fx.app.isPackaged = false;
  Object.assign(fx.state, { windows: [], handlers: new Map(), listeners: new Map(), protocolHandler: null, loadUrl: () => Promise.resolve(), protocolThrows: false });
  vi.clearAllMocks();
  delete process.env.ELECTRON_RENDERER_URL;
  process.env.SFA_HOME = join(t.dir, 'home');
});

afterEach(() => {
  process.env = { ...savedEnv };
  t.cleanup();
});

const trustedEvent = () => ({ sender: fx.state.windows[0]!.webContents, senderFrame: { url: 'app://sfa/', parent: null } });

describe('the desktop host', () => {
  it('opens the one library the CLI uses (SFA_HOME, else defaultHome), with the app version and the Electron-ABI SQLite', async () => {
    const host = start();
    await host.ready();
    expect(created).toEqual([
      expect.objectContaining({ home: join(t.dir, 'home'), host: 'electron', runQueues: true, version: '9.8.7', sqliteBinding: electronSqlitePath(ELECTRON, { dir: host.nativeDir }) }),
    ]);
    delete process.env.SFA_HOME;
    const again = start();
    await again.ready();
    expect(created[1]!.home).toBe(defaultHome());
  });

  it('without the Electron build of better-sqlite3 it says what to run and opens nothing', async () => {
    const host = start({ nativeBuild: false });
    await host.ready();
    expect(created).toEqual([]);
    expect(fx.electron.dialog.showErrorBox).toHaveBeenCalledWith('Sound Forge Alchemy cannot start', expect.stringContaining('npm run setup'));
    expect(fx.app.exit).toHaveBeenCalledWith(1);
    expect(fx.state.windows).toEqual([]);
  });

  it('adds the files the OS hands it: open-file before and after ready, argv at start, a second instance argv', async () => {
    const host = start({ argv: ['/x/electron', '.', 'first.wav', '--enable-logging'] });
    // macOS can send open-file before ready: the listener is there already.
    const early = { preventDefault: vi.fn() };
    fx.app.emit('open-file', early, '/music/early.flac');
    expect(early.preventDefault).toHaveBeenCalled();
    expect(engine.api.handle).not.toHaveBeenCalled();
    await host.ready();
    await vi.waitFor(() => expect(engine.api.handle).toHaveBeenCalledWith('library.add', { inputs: [resolve(process.cwd(), 'first.wav'), '/music/early.flac'] }));
    fx.app.emit('open-file', { preventDefault: vi.fn() }, '/music/later.mp3');
    expect(engine.api.handle).toHaveBeenLastCalledWith('library.add', { inputs: ['/music/later.mp3'] });
    fx.app.emit('second-instance', {}, ['/x/electron', '.', 'rel/song.wav', '/abs/other.wav'], '/home/someone');
    expect(engine.api.handle).toHaveBeenLastCalledWith('library.add', { inputs: ['/home/someone/rel/song.wav', '/abs/other.wav'] });
  });

  it('checks the sender of every IPC channel the same way: our window, its main frame, our app', async () => {
    const host = start();
    await host.ready();
    const stem = join(t.dir, 'vocals.wav');
    engine.media.mockImplementation((id: unknown, which: unknown) => (id === 't1' && which === 'vocals' ? { path: stem, filename: 'x', contentType: 'audio/wav', size: 1 } : null));
    const win = fx.state.windows[0]!;
    const untrusted = [
      { sender: win.webContents, senderFrame: { url: 'https://evil.example/', parent: null } }, // our window, another page
      { sender: win.webContents, senderFrame: { url: 'app://sfa/', parent: {} } }, // an iframe
      { sender: { startDrag: vi.fn() }, senderFrame: { url: 'app://sfa/', parent: null } }, // another window
    ];
    const { handlers, listeners } = fx.state;
    expect([...handlers.keys(), ...listeners.keys()].sort()).toEqual(['sfa:choose-folder', 'sfa:request', 'sfa:reveal', 'sfa:start-drag']);
    for (const event of untrusted) {
      expect(await handlers.get('sfa:request')!(event, 'system.info', {})).toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
      expect(await handlers.get('sfa:reveal')!(event, 't1', 'vocals')).toBe(false);
      expect(await handlers.get('sfa:choose-folder')!(event)).toBeNull();
      listeners.get('sfa:start-drag')!(event, 't1', 'vocals');
      expect((event.sender as { startDrag: Fn }).startDrag).not.toHaveBeenCalled();
    }
    expect(engine.api.handle).not.toHaveBeenCalled();
    expect(fx.electron.shell.showItemInFolder).not.toHaveBeenCalled();

    const ok = trustedEvent();
    expect(await handlers.get('sfa:request')!(ok, 'system.info', {})).toEqual({ ok: true, result: null });
    expect(await handlers.get('sfa:reveal')!(ok, 't1', 'vocals')).toBe(true);
    expect(fx.electron.shell.showItemInFolder).toHaveBeenCalledWith(stem);
    expect(await handlers.get('sfa:choose-folder')!(ok)).toBe('/exports');
    expect(await handlers.get('sfa:reveal')!(ok, 't1', '../../etc/passwd')).toBe(false);
  });

  it('drags a stem out with the app icon as the drag image (not an invisible 1x1)', async () => {
    const host = start();
    await host.ready();
    engine.media.mockReturnValue({ path: '/lib/stems/t1/vocals.wav', filename: 'x', contentType: 'audio/wav', size: 1 });
    const ok = trustedEvent();
    fx.state.listeners.get('sfa:start-drag')!(ok, 't1', 'vocals');
    expect(fx.electron.nativeImage.createFromDataURL).not.toHaveBeenCalled();
    expect(fx.electron.nativeImage.createFromPath).toHaveBeenCalledWith(expect.stringMatching(/resources[/\\]icon\.png$/));
    expect(ok.sender.startDrag).toHaveBeenCalledWith({ file: '/lib/stems/t1/vocals.wav', icon: { path: expect.stringMatching(/icon\.png$/), size: { width: 64, height: 64 } } });
  });

  it('lets our own pages write to the clipboard ("Copy diagnostics") and nothing else', async () => {
    const host = start();
    await host.ready();
    const ask = (permission: string, url: string) => {
      let granted: boolean | undefined;
      fx.state.permissionRequest!({ getURL: () => url }, permission, (g: boolean) => (granted = g), { requestingUrl: url });
      return granted;
    };
    expect(ask('clipboard-sanitized-write', 'app://sfa/')).toBe(true);
    expect(ask('clipboard-sanitized-write', 'https://evil.example/')).toBe(false);
    expect(ask('clipboard-read', 'app://sfa/')).toBe(false);
    expect(ask('media', 'app://sfa/')).toBe(false);
    expect(fx.state.permissionCheck!(null, 'clipboard-sanitized-write', 'app://sfa')).toBe(true);
    expect(fx.state.permissionCheck!(null, 'clipboard-sanitized-write', 'https://evil.example')).toBe(false);
  });

  it('reports a window that cannot load, and a start that fails, instead of showing nothing', async () => {
    fx.state.loadUrl = () => Promise.reject(new Error('ERR_FILE_NOT_FOUND'));
    const host = start();
    await host.ready();
    await vi.waitFor(() => expect(fx.electron.dialog.showErrorBox).toHaveBeenCalledWith('Sound Forge Alchemy could not load its window', expect.stringContaining('ERR_FILE_NOT_FOUND')));
    expect(host.log).toHaveBeenCalledWith(expect.stringContaining('ERR_FILE_NOT_FOUND'));
    fx.state.windows[0]!.webContents.emit('did-fail-load', {}, -6, 'ERR_CONNECTION_REFUSED', 'http://localhost:5173/', true);
    expect(fx.electron.dialog.showErrorBox).toHaveBeenLastCalledWith('Sound Forge Alchemy could not load its window', expect.stringContaining('ERR_CONNECTION_REFUSED'));

    vi.clearAllMocks();
    fx.state.windows = [];
    fx.state.protocolThrows = true;
    const broken = start();
    await broken.ready();
    await vi.waitFor(() => expect(fx.app.exit).toHaveBeenCalledWith(1));
    expect(fx.electron.dialog.showErrorBox).toHaveBeenCalledWith('Sound Forge Alchemy cannot start', 'protocol already handled');
  });

  it('serves media on app:// through the engine lookup; in dev the page (Vite) may fetch it, and the CSP allows it', async () => {
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    const host = start();
    await host.ready();
    expect(fx.state.windows[0]!.loadURL).toHaveBeenCalledWith('http://localhost:5173');
    const file = join(t.dir, 'vocals.wav');
    writeFileSync(file, 'RIFF1234');
    engine.media.mockImplementation((id: unknown, which: unknown) => (id === 't1' && which === 'vocals' ? { path: file, filename: 'Song - vocals.wav', contentType: 'audio/wav', size: 8 } : null));
    const res = (await fx.state.protocolHandler!(new Request('app://sfa/media/t1/vocals'))) as Response;
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(await res.text()).toBe('RIFF1234');
    expect(engine.media).toHaveBeenCalledWith('t1', 'vocals');
    expect(((await fx.state.protocolHandler!(new Request('app://sfa/media/t1/drums'))) as Response).status).toBe(404);
    const dev = electronCsp(true);
    expect(dev).toMatch(/media-src [^;]*app:\/\/sfa/);
    expect(dev).toMatch(/connect-src [^;]*app:\/\/sfa/);
    expect(electronCsp(false)).not.toContain('app://sfa');
  });

  it('looks for the Electron build under the application root, not where a bundle puts this code', async () => {
    const { sqliteBindingFor } = await import('./app');
    const { appRoot } = await import('../paths');
    const seen: string[] = [];
    const result = sqliteBindingFor({ isPackaged: false, electronVersion: ELECTRON, exists: (p) => (seen.push(p), true) });
    expect(result).toEqual({ path: electronSqlitePath(ELECTRON, { dir: join(appRoot(), 'node_modules', '.cache', 'sfa') }) });
    expect(sqliteBindingFor({ isPackaged: true, electronVersion: ELECTRON })).toEqual({});
    expect(sqliteBindingFor({ isPackaged: false })).toEqual({});
  });
});
