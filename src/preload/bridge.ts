import type { EventName, Events, Reply, RequestName } from '../shared/contract';

/** What the preload exposes as `window.sfa` (types only; the renderer's IPC transport uses it). */
export interface SfaBridge {
  /** Sends one contract request; resolves with its Reply (never rejects for engine errors). */
  request(name: RequestName, params?: unknown): Promise<Reply>;
  /** Subscribes to one pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: Events[E]) => void): () => void;
  /** The absolute path of a dropped or picked file (Electron only). */
  getPathForFile(file: File): string;
}
