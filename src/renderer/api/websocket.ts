import type { EventName, Events, Reply, RequestName } from '../../shared/contract';
import { SfaError, type ErrorInfo } from '../../shared/errors';
import type { ConnectionState, Transport } from './transport';

/**
 * The browser transport for `sfa serve`: the contract over a WebSocket at `/ws`, uploads over
 * HTTP at `/api/upload`.
 *
 * Authentication: the page itself is only served to a browser holding the `sfa_token` cookie
 * (set when it opened the `/?token=...` URL that `sfa serve` printed). The socket is same-origin,
 * so the browser sends that cookie on the upgrade and the server checks it with the Origin. The
 * renderer never reads the token (the cookie is HttpOnly).
 *
 * Reconnects with backoff (250 ms doubling to 5 s). Requests made while disconnected wait in a
 * queue; requests in flight when the socket drops fail with DISCONNECTED (they may have run, so
 * they are not replayed).
 */
export interface WebSocketTransportOptions {
  url: string;
  uploadUrl: string;
  WebSocketImpl?: typeof WebSocket;
  /** Consecutive failed connects before the state becomes 'offline' (it keeps retrying). */
  offlineAfter?: number;
}

type Pending = { resolve: (reply: Reply) => void };

export function createWebSocketTransport(options: WebSocketTransportOptions): Transport {
  const Impl = options.WebSocketImpl ?? WebSocket;
  const offlineAfter = options.offlineAfter ?? 4;
  const listeners = new Map<EventName, Set<(payload: never) => void>>();
  const connectionListeners = new Set<(state: ConnectionState) => void>();
  const pending = new Map<number, Pending>();
  let queue: string[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let state: ConnectionState = 'connecting';
  let failures = 0;
  let everOpened = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const setState = (next: ConnectionState) => {
    if (next === state) return;
    state = next;
    for (const cb of connectionListeners) cb(state);
  };

  const connect = () => {
    if (closed) return;
    const ws = new Impl(options.url);
    socket = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      everOpened = true;
      failures = 0;
      setState('open');
      const waiting = queue;
      queue = [];
      for (const message of waiting) ws.send(message);
    };
    ws.onmessage = (message: MessageEvent) => {
      let data: { id?: unknown; reply?: Reply; event?: EventName; payload?: unknown };
      try {
        data = JSON.parse(String(message.data)) as typeof data;
      } catch {
        return;
      }
      if (typeof data.id === 'number' && data.reply) {
        pending.get(data.id)?.resolve(data.reply);
        pending.delete(data.id);
      } else if (typeof data.event === 'string') {
        for (const cb of listeners.get(data.event) ?? []) (cb as (p: unknown) => void)(data.payload);
      }
    };
    ws.onclose = () => {
      if (socket === ws) socket = null;
      for (const [id, p] of pending) {
        p.resolve({ ok: false, error: { code: 'DISCONNECTED', message: 'Lost the connection to the Sound Forge Alchemy server before it answered; try again.' } });
        pending.delete(id);
      }
      if (closed) return;
      if (!opened) failures += 1;
      setState(failures >= offlineAfter ? 'offline' : everOpened ? 'reconnecting' : 'connecting');
      const delay = Math.min(5000, 250 * 2 ** Math.min(failures, 5));
      timer = setTimeout(connect, delay);
    };
  };
  connect();

  return {
    send(name: RequestName, params: unknown) {
      const id = nextId++;
      const message = JSON.stringify(params === undefined ? { id, name } : { id, name, params });
      return new Promise<Reply>((resolve) => {
        pending.set(id, { resolve });
        if (socket && socket.readyState === Impl.OPEN) socket.send(message);
        else queue.push(message);
      });
    },
    on<E extends EventName>(event: E, callback: (payload: Events[E]) => void) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(callback as (payload: never) => void);
      return () => set.delete(callback as (payload: never) => void);
    },
    onConnection(callback) {
      connectionListeners.add(callback);
      callback(state);
      return () => connectionListeners.delete(callback);
    },
    files: {
      pathOf: () => null,
      upload: (file, onProgress) => uploadFile(options.uploadUrl, file, onProgress),
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}

/** POSTs the raw file (XHR for upload progress); the cookie authenticates it. */
export function uploadFile(uploadUrl: string, file: File, onProgress?: (sent: number, total: number) => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${uploadUrl}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('Content-Type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new SfaError('DISCONNECTED', `Uploading ${file.name} failed: the server could not be reached.`));
    xhr.onload = () => {
      let body: { path?: string; error?: ErrorInfo } = {};
      try {
        body = JSON.parse(xhr.responseText) as typeof body;
      } catch {
        // a plain-text error page
      }
      if (xhr.status === 200 && body.path) return resolve(body.path);
      if (xhr.status === 401) return reject(new SfaError('UNAUTHORIZED', 'The server no longer accepts this page: open the URL that `sfa serve` printed again.'));
      reject(new SfaError(body.error?.code ?? 'UPLOAD_FAILED', `${file.name}: ${body.error?.message ?? `upload failed (HTTP ${xhr.status})`}`));
    };
    xhr.send(file);
  });
}
