/** Types of client.mjs, the one sidecar JSON-lines client (engine and provisioning). */

export interface SidecarClientOptions {
  python: string;
  /** Folder holding the `sfa_sidecar` package (cwd and PYTHONPATH). */
  packageRoot: string;
  args?: string[];
  /** Extra environment variables over this process's (`undefined` removes one). */
  env?: Record<string, string | undefined>;
  helloTimeoutMs?: number;
  /** After a cancel, how long the op may take to stop before the process is killed. */
  cancelGraceMs?: number;
  /** Builds the errors the client throws (default: an Error with a `code`). */
  makeError?: (code: string, message: string) => Error;
  /** Parses one stdout line (default `parseLine`). */
  parse?: (line: string) => { type: string } | null;
  /** Returns a reason to refuse the sidecar after its hello (another protocol version), or null. */
  checkHello?: (hello: { type: 'hello'; protocol?: unknown }) => string | null;
  onStderrLine?: (line: string, pid: number | undefined) => void;
  /** The process died in native code (SIGSEGV and the like; an access violation on Windows), not by our kill. */
  onNativeCrash?: (reason: string, pid: number | undefined) => void;
  /** An error message with no request id (a malformed message the sidecar could not attribute). */
  onStrayError?: (message: { code: string; message: string }) => void;
}

export interface ClientRequestOptions {
  signal?: AbortSignal;
  /** `fraction` in [0, 1]. */
  onProgress?: (fraction: number, message: string) => void;
  /** Fail with SIDECAR_TIMEOUT (and kill the process) when no reply comes in time. */
  timeoutMs?: number;
}

export declare class SidecarClient<Hello = { type: 'hello'; [key: string]: unknown }> {
  constructor(options: SidecarClientOptions);
  readonly ready: Promise<Hello>;
  /** The last stderr lines (for error details). */
  readonly stderrTail: string[];
  get pid(): number | undefined;
  get alive(): boolean;
  get busy(): boolean;
  request<T = unknown>(op: string, params: Record<string, unknown>, options?: ClientRequestOptions): Promise<T>;
  kill(): void;
  shutdown(graceMs?: number): Promise<void>;
}

export declare function parseLine(line: string): { type: string; [key: string]: unknown } | null;
