/**
 * The one contract between the engine and every client (Electron IPC, WebSocket, CLI).
 *
 * Each request has a zod schema for its params (validated by the engine whatever the transport)
 * and a result type. Each pushed event has a payload type. Preload, `serve` and the renderer all
 * import this file; nothing else defines a channel.
 */
import { z } from 'zod';
import type { AddResult, DoctorReport, Track } from './domain';

/** A request's definition: a params schema plus a phantom result type. */
export interface RequestDef<P extends z.ZodType, R> {
  params: P;
  /** Never set at run time: carries the result type for the client's inference. */
  readonly result?: R;
}

function request<R>() {
  return <P extends z.ZodType>(params: P): RequestDef<P, R> => ({ params });
}

const id = z.string().min(1).max(128);
const input = z.string().min(1).max(4096);
const stepList = z.array(z.enum(['separate', 'analyze'])).max(2);

export const requests = {
  'library.add': request<AddResult>()(
    z.strictObject({
      inputs: z.array(input).min(1).max(10_000),
      /** Pipeline steps to enqueue; omitted = all, [] = none. */
      steps: stepList.optional(),
      model: z.string().min(1).max(64).optional(),
    }),
  ),
  'library.list': request<{ tracks: Track[] }>()(z.strictObject({}).optional()),
  'library.get': request<Track>()(z.strictObject({ id })),
  'system.doctor': request<DoctorReport>()(z.strictObject({}).optional()),
  'system.info': request<SystemInfo>()(z.strictObject({}).optional()),
} as const;

export interface SystemInfo {
  version: string;
  home: string;
  host: 'electron' | 'serve' | 'cli';
  /** True where the host can pass file paths (Electron); false where files must be uploaded. */
  canPassPaths: boolean;
}

export type RequestName = keyof typeof requests;
export type RequestParams<N extends RequestName> = z.input<(typeof requests)[N]['params']>;
export type RequestResult<N extends RequestName> = NonNullable<(typeof requests)[N]['result']>;

export interface Events {
  /** Tracks were added, changed or removed; `ids` lists them when known. */
  'library:changed': { ids?: string[] };
}

export type EventName = keyof Events;
export const EVENT_NAMES: readonly EventName[] = ['library:changed'];

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(requests, name);
}

/** The wire envelope for a reply, the same over IPC and WebSocket. */
export type Reply<R = unknown> = { ok: true; result: R } | { ok: false; error: { code: string; message: string } };
