import type { EventName, Events, Reply, RequestName } from '../shared/contract';

/** What the preload exposes as `window.sfa` (types only; the renderer's IPC transport uses it). */
export interface SfaBridge {
  /** Sends one contract request; resolves with its Reply (never rejects for engine errors). */
  request(name: RequestName, params?: unknown): Promise<Reply>;
  /** Subscribes to one pushed event; returns the unsubscribe function. */
  on<E extends EventName>(event: E, callback: (payload: Events[E]) => void): () => void;
  /** The absolute path of a dropped or picked file (Electron only). */
  getPathForFile(file: File): string;
  /** Drag a registered stem (or the source, stem omitted) out of the window (native drag). */
  startDrag(trackId: string, stem?: string): void;
  /** Show a registered file in the OS file manager; false when it is not registered. */
  reveal(trackId: string, stem?: string): Promise<boolean>;
  /** A native folder picker; null when cancelled. */
  chooseFolder(): Promise<string | null>;
}
