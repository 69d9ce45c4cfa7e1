/**
 * The sandboxed preload: exposes the contract to the renderer as `window.sfa`, nothing else.
 * Built as CommonJS and bundled with no runtime dependency but `electron` (sandboxed preloads
 * cannot load node_modules), hence the zod-free name lists from `shared/names`.
 */
import { contextBridge, ipcRenderer, webUtils, type IpcRendererEvent } from 'electron';
import type { EventName, Events, Reply, RequestName } from '../shared/contract';
import { IPC_CHANNELS } from '../shared/desktop';
import { isKnownEventName, isKnownRequestName } from '../shared/names';
import type { SfaBridge } from './bridge';

const REQUEST_CHANNEL = IPC_CHANNELS.request;
const EVENT_CHANNEL = IPC_CHANNELS.event;

const bridge: SfaBridge = {
  request(name: RequestName, params?: unknown): Promise<Reply> {
    if (!isKnownRequestName(name)) {
      return Promise.resolve({ ok: false, error: { code: 'UNKNOWN_REQUEST', message: `Unknown request ${String(name).slice(0, 80)}.` } });
    }
    return ipcRenderer.invoke(REQUEST_CHANNEL, name, params) as Promise<Reply>;
  },
  on<E extends EventName>(event: E, callback: (payload: Events[E]) => void): () => void {
    if (!isKnownEventName(event) || typeof callback !== 'function') throw new TypeError(`Unknown event ${String(event).slice(0, 80)}`);
    const listener = (_e: IpcRendererEvent, name: unknown, payload: unknown) => {
      if (name === event) callback(payload as Events[E]);
    };
    ipcRenderer.on(EVENT_CHANNEL, listener);
    return () => ipcRenderer.removeListener(EVENT_CHANNEL, listener);
  },
  getPathForFile(file: File): string {
    return webUtils.getPathForFile(file);
  },
  startDrag(trackId: string, stem?: string): void {
    ipcRenderer.send(IPC_CHANNELS.startDrag, String(trackId), stem === undefined ? undefined : String(stem));
  },
  reveal(trackId: string, stem?: string): Promise<boolean> {
    return ipcRenderer.invoke(IPC_CHANNELS.reveal, String(trackId), stem === undefined ? undefined : String(stem)) as Promise<boolean>;
  },
  chooseFolder(): Promise<string | null> {
    return ipcRenderer.invoke(IPC_CHANNELS.chooseFolder) as Promise<string | null>;
  },
};

contextBridge.exposeInMainWorld('sfa', bridge);
