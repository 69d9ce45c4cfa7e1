import type { SfaBridge } from '../../preload/bridge';
import { APP_ORIGIN, APP_SCHEME } from '../../shared/desktop';
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
  if (window.sfa) return createClient(createIpcTransport(window.sfa), { mediaBase: desktopMediaBase(location.protocol) });
  const wsProtocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return createClient(
    createWebSocketTransport({ url: `${wsProtocol}//${location.host}/ws`, uploadUrl: `${location.origin}/api/upload` }),
  );
}

/**
 * The desktop app serves media on app://sfa. Its page comes from there too, except in dev, where
 * Vite's server sends the page and would answer a relative /media/... URL itself.
 */
export function desktopMediaBase(pageProtocol: string): string {
  return pageProtocol === `${APP_SCHEME}:` ? '' : APP_ORIGIN;
}
