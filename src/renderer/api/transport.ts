import type { EventName, Events, Reply, RequestName } from '../../shared/contract';

/** Where the engine is reachable: 'open' for IPC always; a WebSocket can drop and come back. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'offline';

/** How files reach the engine: Electron passes paths, the browser uploads. */
export interface FileAccess {
  /** The file's path on disk (Electron), or null where the host cannot see local paths. */
  pathOf(file: File): string | null;
  /** Sends the file to the engine's machine; resolves with its path there. */
  upload(file: File, onProgress?: (sent: number, total: number) => void): Promise<string>;
}

/**
 * One way to reach the engine. The client wraps it; the UI never sees which one it got.
 * `send` resolves with the contract's Reply (a failed Reply too); it rejects only on bugs.
 */
export interface Transport {
  send(name: RequestName, params: unknown): Promise<Reply>;
  on<E extends EventName>(event: E, callback: (payload: Events[E]) => void): () => void;
  onConnection(callback: (state: ConnectionState) => void): () => void;
  files: FileAccess;
  /** Desktop-only actions (Electron); absent in a browser. */
  desktop?: DesktopAccess;
  close?(): void;
}

/** What only the desktop app can do: native drag out, reveal in the file manager, pick a folder. */
export interface DesktopAccess {
  startDrag(trackId: string, stem?: string): void;
  reveal(trackId: string, stem?: string): Promise<boolean>;
  chooseFolder(): Promise<string | null>;
}
