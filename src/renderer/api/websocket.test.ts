// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createClient } from './client';
import type { ConnectionState } from './transport';
import { createWebSocketTransport } from './websocket';

/** A scriptable stand-in for the browser's WebSocket. */
class FakeSocket {
  static readonly OPEN = 1;
  static instances: FakeSocket[] = [];
  readonly OPEN = 1;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onclose: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.drop();
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
  receive(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

const latest = () => FakeSocket.instances[FakeSocket.instances.length - 1]!;

function setup() {
  const transport = createWebSocketTransport({ url: 'ws://127.0.0.1:1/ws', uploadUrl: '/api/upload', WebSocketImpl: FakeSocket as unknown as typeof WebSocket, offlineAfter: 2 });
  const states: ConnectionState[] = [];
  transport.onConnection((s) => states.push(s));
  return { transport, client: createClient(transport), states };
}

beforeEach(() => {
  FakeSocket.instances = [];
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('createWebSocketTransport', () => {
  it('queues requests until the socket opens, then matches replies by id', async () => {
    const { client, states } = setup();
    const info = client.request('system.info');
    const list = client.request('library.list');
    expect(latest().sent).toEqual([]);
    latest().open();
    expect(states).toEqual(['connecting', 'open']);
    const sent = latest().sent.map((s) => JSON.parse(s) as { id: number; name: string });
    expect(sent.map((m) => m.name)).toEqual(['system.info', 'library.list']);
    latest().receive({ id: sent[1]!.id, reply: { ok: true, result: { tracks: [] } } });
    latest().receive({ id: sent[0]!.id, reply: { ok: false, error: { code: 'INTERNAL', message: 'boom' } } });
    await expect(list).resolves.toEqual({ tracks: [] });
    await expect(info).rejects.toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });

  it('dispatches pushed events to their listeners', () => {
    const { client } = setup();
    latest().open();
    const seen = vi.fn();
    client.on('library:changed', seen);
    latest().receive({ event: 'library:changed', payload: { ids: ['x'] } });
    expect(seen).toHaveBeenCalledWith({ ids: ['x'] });
  });

  it('fails in-flight requests with DISCONNECTED on a drop, and reconnects with backoff', async () => {
    const { client, states } = setup();
    latest().open();
    const pending = client.request('library.list');
    latest().drop();
    await expect(pending).rejects.toMatchObject({ code: 'DISCONNECTED' });
    expect(states.at(-1)).toBe('reconnecting');
    expect(FakeSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(FakeSocket.instances).toHaveLength(2);
    latest().open();
    expect(states.at(-1)).toBe('open');
  });

  it('reports offline after repeated failed connects, and keeps trying', async () => {
    const { states } = setup();
    latest().drop();
    await vi.advanceTimersByTimeAsync(1000);
    latest().drop();
    expect(states.at(-1)).toBe('offline');
    await vi.advanceTimersByTimeAsync(5000);
    expect(FakeSocket.instances.length).toBeGreaterThanOrEqual(3);
  });

  it('stops reconnecting once closed', async () => {
    const { transport } = setup();
    latest().open();
    transport.close?.();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(FakeSocket.instances).toHaveLength(1);
  });
});
