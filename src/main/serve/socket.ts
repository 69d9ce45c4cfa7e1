import type { WebSocket } from 'ws';
import type { EventName, Events, Reply, SystemInfo } from '../../shared/contract';
import type { Engine } from '../engine';

/**
 * The WebSocket protocol, the IPC contract on a socket:
 *   client -> server  {id, name, params}       one request
 *   server -> client  {id, reply}              its Reply (the contract's envelope), any order
 *   server -> client  {event, payload}         a pushed engine event
 * A message that is not such a request gets `{id: null|id, reply: {ok:false, BAD_REQUEST}}`.
 */
export interface ClientMessage {
  id: string | number;
  name: string;
  params?: unknown;
}

export type ServerMessage = { id: string | number | null; reply: Reply } | { event: EventName; payload: Events[EventName] };

const PROGRESS_BACKLOG_LIMIT = 1024 * 1024;

function badRequest(message: string): Reply {
  return { ok: false, error: { code: 'BAD_REQUEST', message } };
}

/**
 * Over this socket the client is a browser: it can never pass local paths, whatever host the
 * engine was created for. `system.info` says so.
 */
async function handle(engine: Pick<Engine, 'api'>, name: string, params: unknown): Promise<Reply> {
  const reply = await engine.api.handle(name, params);
  if (name === 'system.info' && reply.ok) {
    return { ok: true, result: { ...(reply.result as SystemInfo), host: 'serve', canPassPaths: false } };
  }
  return reply;
}

export function attachSocket(socket: WebSocket, engine: Pick<Engine, 'api' | 'events'>): void {
  const send = (message: ServerMessage) => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const unsubscribe = engine.events.subscribe((event, payload) => {
    // A slow client skips progress ticks (the next one supersedes them) rather than buffering.
    if (event === 'job:progress' && socket.bufferedAmount > PROGRESS_BACKLOG_LIMIT) return;
    send({ event, payload });
  });
  let alive = true;
  const heartbeat = setInterval(() => {
    if (!alive) return socket.terminate();
    alive = false;
    socket.ping();
  }, 30_000);
  heartbeat.unref();
  socket.on('pong', () => (alive = true));
  socket.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
  socket.on('error', () => socket.terminate());
  socket.on('message', (data, isBinary) => {
    let message: unknown;
    try {
      message = isBinary ? undefined : JSON.parse(data.toString());
    } catch {
      message = undefined;
    }
    const m = message as Partial<ClientMessage> | undefined;
    const id = typeof m?.id === 'string' || typeof m?.id === 'number' ? m.id : null;
    if (!m || id === null || typeof m.name !== 'string') {
      send({ id, reply: badRequest('A message must be JSON {id, name, params}.') });
      return;
    }
    void handle(engine, m.name, m.params).then((reply) => send({ id, reply }));
  });
}
