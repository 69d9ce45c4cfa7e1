/**
 * Messages of the JSON-lines protocol. python/sfa_sidecar/protocol.json defines them for both
 * sides: `MESSAGE_FIELDS` below must equal it (protocol.test.ts), and the type checks that each
 * list names exactly the fields of its interface.
 */
import { asErrorCode, type ErrorCode } from '../../shared/errors';

export const PROTOCOL_VERSION = 1;

export interface RequestMessage {
  type: 'request';
  id: string;
  op: string;
  params: Record<string, unknown>;
}

export interface CancelMessage {
  type: 'cancel';
  id: string;
}

export interface ShutdownMessage {
  type: 'shutdown';
}

/** What the engine sends. */
export type EngineMessage = RequestMessage | CancelMessage | ShutdownMessage;

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  pid: number;
  ops: string[];
  versions: Record<string, string | null>;
  devices: SidecarDevice[];
  /** A cluster driver (`--cluster`): the address it accepted, or null and why it refused it. */
  cluster?: { address: string | null; error?: string };
}

export interface SidecarDevice {
  type: 'cpu' | 'cuda' | 'mps';
  name: string;
  index?: number;
  totalMemory?: number;
  freeMemory?: number;
  detail?: string;
}

export interface ProgressMessage {
  type: 'progress';
  id: string;
  fraction: number;
  message: string;
}

export interface ResultMessage {
  type: 'result';
  id: string;
  result: unknown;
}

export interface ErrorMessage {
  type: 'error';
  id: string | null;
  code: ErrorCode;
  message: string;
  detail?: Record<string, unknown>;
}

export type SidecarMessage = HelloMessage | ProgressMessage | ResultMessage | ErrorMessage;

type Fields<M> = { required: readonly (keyof M)[]; optional: readonly (keyof M)[] };
type FieldsOf<U extends { type: string }> = { [K in U['type']]: Fields<Extract<U, { type: K }>> };
/** Every field of M is listed (required or optional): a field added to an interface fails here. */
type Complete<M, F extends Fields<M>> = Exclude<keyof M, F['required'][number] | F['optional'][number]> extends never ? true : false;

export const MESSAGE_FIELDS = {
  toSidecar: {
    request: { required: ['type', 'id', 'op', 'params'], optional: [] },
    cancel: { required: ['type', 'id'], optional: [] },
    shutdown: { required: ['type'], optional: [] },
  },
  fromSidecar: {
    hello: { required: ['type', 'protocol', 'pid', 'ops', 'versions', 'devices'], optional: ['cluster'] },
    progress: { required: ['type', 'id', 'fraction', 'message'], optional: [] },
    result: { required: ['type', 'id', 'result'], optional: [] },
    error: { required: ['type', 'id', 'code', 'message'], optional: ['detail'] },
  },
} as const satisfies { toSidecar: FieldsOf<EngineMessage>; fromSidecar: FieldsOf<SidecarMessage> };

type F = typeof MESSAGE_FIELDS;
const complete: [
  Complete<RequestMessage, F['toSidecar']['request']>,
  Complete<CancelMessage, F['toSidecar']['cancel']>,
  Complete<ShutdownMessage, F['toSidecar']['shutdown']>,
  Complete<HelloMessage, F['fromSidecar']['hello']>,
  Complete<ProgressMessage, F['fromSidecar']['progress']>,
  Complete<ResultMessage, F['fromSidecar']['result']>,
  Complete<ErrorMessage, F['fromSidecar']['error']>,
] = [true, true, true, true, true, true, true];
void complete;

export function parseMessage(line: string): SidecarMessage | null {
  try {
    const value = JSON.parse(line) as { type?: unknown };
    if (!value || typeof value !== 'object' || typeof value.type !== 'string') return null;
    // A code the closed list lacks is a sidecar bug: it reads as INTERNAL, the message kept.
    if (value.type === 'error') return { ...value, code: asErrorCode((value as { code?: unknown }).code) } as ErrorMessage;
    return value as SidecarMessage;
  } catch {
    // a non-JSON line cannot happen by design (stdout is claimed), but never crash on one
  }
  return null;
}
