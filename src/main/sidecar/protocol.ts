/** Messages of the JSON-lines protocol (mirrors python/sfa_sidecar/protocol.py). */
import { asErrorCode, type ErrorCode } from '../../shared/errors';

export interface HelloMessage {
  type: 'hello';
  protocol: number;
  pid: number;
  ops: string[];
  versions: Record<string, string | null>;
  devices: SidecarDevice[];
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
