import type { SfaBridge } from '../../preload/bridge';
import { createClient, type Client } from './client';
import { createIpcTransport } from './ipc';
import { createWebSocketTransport } from './websocket';

export type { Client } from './client';
export { createClient } from './client';
export type { ConnectionState, DesktopAccess, FileAccess, Transport } from './transport';

declare global {
  interface Window {
    sfa?: SfaBridge;
  }
}

/** The client for wherever this page runs: Electron's preload if present, else `sfa serve`. */
export function connect(): Client {
  if (window.sfa) return createClient(createIpcTransport(window.sfa));
  const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createClient(
    createWebSocketTransport({ url: `${wsProtocol}//${location.host}/ws`, uploadUrl: `${location.origin}/api/upload` }),
  );
}
