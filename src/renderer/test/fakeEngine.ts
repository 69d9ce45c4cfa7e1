import { vi } from 'vitest';
import { referenceListing as listing } from './reference-query';
import type { EventName, Events, Reply, RequestName, SystemInfo } from '../../shared/contract';
import type { DoctorReport, JobInfo, QueueStats, Settings, TrackListItem } from '../../shared/domain';
import { asErrorCode } from '../../shared/errors';
import { createClient, type Client } from '../api/client';
import type { ConnectionState, Transport } from '../api/transport';

/** A fake engine behind the contract: handlers per request, events pushed by the test. */
export interface FakeEngine {
  client: Client;
  transport: Transport;
  handlers: Partial<Record<RequestName, (params: unknown) => unknown>>;
  calls: { name: RequestName; params: unknown }[];
  emit<E extends EventName>(event: E, payload: Events[E]): void;
  setConnection(state: ConnectionState): void;
  upload: ReturnType<typeof vi.fn>;
  pathOf: ReturnType<typeof vi.fn>;
}

export function track(overrides: Partial<TrackListItem> = {}): TrackListItem {
  return {
    id: overrides.id ?? `t-${Math.random().toString(36).slice(2)}`,
    title: 'Track',
    artist: null,
    album: null,
    sourceKind: 'file',
    source: '/music/track.wav',
    path: '/music/track.wav',
    contentHash: 'abc',
    duration: 61,
    sampleRate: 44100,
    channels: 2,
    codec: 'pcm_s16le',
    addedAt: '2026-01-01T00:00:00Z',
    status: 'ready',
    error: null,
    analysis: null,
    stemCount: 0,
    ...overrides,
  };
}

export function job(overrides: Partial<JobInfo> = {}): JobInfo {
  return {
    id: 1, queue: 'processing', worker: 'separate', state: 'available', attempt: 0, maxAttempts: 3, priority: 1, trackId: null, progress: null, errors: [],
    waiting: false, insertedAt: '2026-01-01T00:00:00Z', scheduledAt: '2026-01-01T00:00:00Z', attemptedAt: null, finishedAt: null, args: {}, meta: {}, result: null,
    ...overrides,
  };
}

export function queue(name: string, overrides: Partial<QueueStats> = {}): QueueStats {
  return {
    name, limit: 2, paused: false, running: 0,
    counts: { scheduled: 0, available: 0, executing: 0, retryable: 0, completed: 0, discarded: 0, cancelled: 0 },
    ...overrides,
  };
}

export const defaultSettings: Settings = {
  defaultModel: 'htdemucs', device: 'auto', format: 'wav', autoPipeline: true,
  concurrency: { download: 3, processing: 2, analysis: 2 }, toolPaths: { ffmpeg: null }, libraryFolder: '/data',
  keyNotation: 'standard', energyField: 'comment', stemCodec: 'aac',
};

export const browserInfo: SystemInfo = { version: '0.1.0', home: '/data', host: 'serve', canPassPaths: false };
export const desktopInfo: SystemInfo = { version: '0.1.0', home: '/data', host: 'electron', canPassPaths: true };
export const doctorReport: DoctorReport = {
  checks: [
    { name: 'python', ok: true, version: '3.11.7', path: '/venv/bin/python' },
    { name: 'torch', ok: false, detail: 'not installed' },
  ],
};

export function fakeEngine(options: { tracks?: TrackListItem[]; info?: SystemInfo; connection?: ConnectionState; jobs?: JobInfo[]; queues?: QueueStats[] } = {}): FakeEngine {
  let tracks = options.tracks ?? [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const connectionListeners = new Set<(s: ConnectionState) => void>();
  let connection: ConnectionState = options.connection ?? 'open';
  const calls: FakeEngine['calls'] = [];
  const handlers: FakeEngine['handlers'] = {
    'library.list': (params) => listing(tracks, params),
    'library.count': (params) => {
      const { total, libraryTotal } = listing(tracks, params);
      return { total, libraryTotal };
    },
    'library.ids': (params) => ({ ids: listing(tracks, params).tracks.map((t) => t.id) }),
    'library.titles': (params) => ({ titles: Object.fromEntries(tracks.filter((t) => (params as { ids: string[] }).ids.includes(t.id)).map((t) => [t.id, t.title])) }),
    'system.info': () => options.info ?? browserInfo,
    'system.doctor': () => doctorReport,
    'jobs.list': (params) => {
      const state = (params as { state?: string[] } | undefined)?.state;
      return { jobs: (options.jobs ?? []).filter((j) => !state || state.includes(j.state)) };
    },
    'queues.list': () => ({ queues: options.queues ?? [queue('download'), queue('processing'), queue('analysis')] }),
    'settings.get': () => defaultSettings,
    'models.list': () => ({ dir: '/data/models', models: [] }),
    'library.add': (params) => {
      const { inputs } = params as { inputs: string[] };
      const added = inputs.filter((i) => !i.includes('bad')).map((i) => track({ title: i.split('/').pop()!, source: i }));
      tracks = [...tracks, ...added];
      return {
        tracks: added.map((t) => ({ id: t.id, title: t.title, source: t.source })),
        errors: inputs.filter((i) => i.includes('bad')).map((input) => ({ input, code: 'INVALID_LINK', message: 'Not a supported link: unsupported site.' })),
      };
    },
  };
  const upload = vi.fn(async (file: File) => `/data/media/uploads/u1/${file.name}`);
  const pathOf = vi.fn((file: File) => ((options.info ?? browserInfo).canPassPaths ? `/local/${file.name}` : null));
  const transport: Transport = {
    async send(name, params): Promise<Reply> {
      calls.push({ name, params });
      const handler = handlers[name];
      if (!handler) return { ok: false, error: { code: 'UNKNOWN_REQUEST', message: `no ${name}` } };
      try {
        return { ok: true, result: await handler(params) };
      } catch (error) {
        const e = error as { code?: string; message: string };
        return { ok: false, error: { code: asErrorCode(e.code), message: e.message } };
      }
    },
    on(event, callback) {
      let set = listeners.get(event);
      if (!set) listeners.set(event, (set = new Set()));
      set.add(callback as (p: unknown) => void);
      return () => set.delete(callback as (p: unknown) => void);
    },
    onConnection(callback) {
      connectionListeners.add(callback);
      callback(connection);
      return () => connectionListeners.delete(callback);
    },
    files: { pathOf, upload },
  };
  return {
    client: createClient(transport),
    transport,
    handlers,
    calls,
    emit(event, payload) {
      for (const cb of listeners.get(event) ?? []) cb(payload);
    },
    setConnection(state) {
      connection = state;
      for (const cb of connectionListeners) cb(state);
    },
    upload,
    pathOf,
  };
}

export { listing };
