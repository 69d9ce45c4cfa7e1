/**
 * Typed errors that cross every boundary (engine -> IPC/WebSocket -> renderer, engine -> CLI,
 * Python sidecar -> engine). A code is stable and machine-readable; a message tells the user what
 * happened and what to do.
 *
 * `ERRORS` is the closed list of every code raised anywhere, TypeScript and Python alike
 * (python/tests/test_error_codes.py checks the sidecar against it), each with what a worker does
 * when a job's step fails with it: `retry` (back off and try again while attempts remain) or
 * `discard` (no retry can fix it: the job stops at once with the message).
 */
export const ERRORS = {
  // requests
  BAD_REQUEST: { worker: 'discard', means: 'the request or its parameters are invalid' },
  UNKNOWN_REQUEST: { worker: 'discard', means: 'no such request name' },
  USAGE: { worker: 'discard', means: 'a command line the CLI cannot parse' },
  UNSUPPORTED: { worker: 'discard', means: 'a valid request this host or build cannot serve' },
  FORBIDDEN: { worker: 'discard', means: 'a request from a sender the host does not trust' },
  UNAUTHORIZED: { worker: 'discard', means: 'the served page lost its access token' },
  DISCONNECTED: { worker: 'retry', means: 'the connection to the engine dropped' },
  // library and files
  NOT_FOUND: { worker: 'discard', means: 'a track, job or file id that does not exist' },
  FILE_NOT_FOUND: { worker: 'discard', means: 'a path that does not exist on disk' },
  UNREADABLE: { worker: 'discard', means: 'a path that cannot be read (permissions, a link loop)' },
  NO_AUDIO: { worker: 'discard', means: 'a folder without audio files' },
  NOT_AUDIO: { worker: 'discard', means: 'a file that ffmpeg cannot read as audio' },
  DECODE_FAILED: { worker: 'discard', means: 'the audio decoder failed part-way through the file' },
  TOO_SHORT: { worker: 'discard', means: 'audio too short to analyse' },
  SILENT: { worker: 'discard', means: 'audio with no signal to analyse' },
  ABORTED: { worker: 'retry', means: 'an upload interrupted before its end' },
  TOO_LARGE: { worker: 'discard', means: 'an upload larger than the server accepts' },
  UPLOAD_FAILED: { worker: 'retry', means: 'an upload the server refused for another reason' },
  WRITE_FAILED: { worker: 'retry', means: 'a stem file could not be written' },
  DISK_FULL: { worker: 'discard', means: 'no space left where we write (does not fix itself within a backoff)' },
  PERMISSION_DENIED: { worker: 'discard', means: 'a folder we must write to is read-only or not ours' },
  // data folder and database
  HOME_LOCKED: { worker: 'retry', means: 'another process holds the data folder' },
  DATABASE_LOCKED: { worker: 'retry', means: 'another program holds a lock on the library database' },
  DATABASE_CORRUPT: { worker: 'discard', means: 'the library database failed its integrity check' },
  DATABASE_TOO_NEW: { worker: 'discard', means: 'the library was written by a newer version of the app' },
  MIGRATION_CHANGED: { worker: 'discard', means: 'an applied migration was edited after release' },
  // links and downloads
  INVALID_LINK: { worker: 'discard', means: 'text that is not a supported Spotify/YouTube link' },
  NO_MATCH: { worker: 'discard', means: 'a link with nothing that can be downloaded' },
  RATE_LIMITED: { worker: 'retry', means: 'the service asked us to slow down' },
  TOOL_MISSING: { worker: 'retry', means: 'spotdl or yt-dlp is not installed' },
  DOWNLOAD_FAILED: { worker: 'retry', means: 'a download tool failed' },
  DOWNLOAD_STALLED: { worker: 'retry', means: 'a download tool printed nothing for too long' },
  DOWNLOAD_TIMEOUT: { worker: 'retry', means: 'a download took longer than its limit' },
  // models and devices
  MODEL_NOT_INSTALLED: { worker: 'discard', means: 'a separation model that is not downloaded' },
  MODEL_UNAVAILABLE: { worker: 'discard', means: 'the sidecar cannot load the separation model' },
  MODEL_INVALID: { worker: 'retry', means: 'a model file that fails its checks (a download may be cut short)' },
  MODEL_BUSY: { worker: 'retry', means: 'another process is changing the model store' },
  DEVICE_UNAVAILABLE: { worker: 'discard', means: 'the chosen compute device does not exist here' },
  OUT_OF_MEMORY: { worker: 'retry', means: 'the sidecar ran out of memory' },
  // the sidecar
  SIDECAR_UNAVAILABLE: { worker: 'discard', means: 'the Python environment is missing or broken' },
  SIDECAR_CRASHED: { worker: 'retry', means: 'the sidecar died while working on the request' },
  SIDECAR_TIMEOUT: { worker: 'retry', means: 'the sidecar did not answer in time' },
  SIDECAR_ERROR: { worker: 'retry', means: 'the sidecar failed without a more specific code' },
  // the cluster (Ray)
  CLUSTER_UNREACHABLE: { worker: 'retry', means: 'the Ray cluster cannot be reached (jobs wait for it; no attempt is spent)' },
  CLUSTER_NO_RAY: { worker: 'retry', means: 'a cluster address is set but Ray is not installed in the app\'s Python environment (jobs wait for the install; no attempt is spent)' },
  CLUSTER_AUTH: { worker: 'discard', means: 'the Ray cluster refused our authentication token' },
  CLUSTER_ADDRESS: { worker: 'discard', means: 'a cluster address that is not ray://host:port or a known local head' },
  NODE_LOST: { worker: 'retry', means: 'the cluster node running the job died or left' },
  // jobs (the scheduler's own outcomes)
  // the scheduler settles a cancelled job from its abort signal, whatever the worker answers
  CANCELLED: { worker: 'retry', means: 'the user cancelled the work' },
  JOB_FAILED: { worker: 'retry', means: 'a job step failed without a code' },
  JOB_TIMEOUT: { worker: 'retry', means: 'a job ran past its timeout' },
  DEPENDENCY_FAILED: { worker: 'discard', means: 'a job this one depends on did not complete' },
  DISCARDED: { worker: 'discard', means: 'a worker gave up on the job without a code' },
  RESCUED: { worker: 'retry', means: 'a job left executing by a process that died' },
  SHUTDOWN: { worker: 'retry', means: 'the app stopped while the job ran' },
  INTERNAL: { worker: 'retry', means: 'a bug: the message has the details' },
} as const satisfies Record<string, { worker: 'retry' | 'discard'; means: string }>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as readonly ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERRORS, value);
}

/** A code from the wire or the database, closed over: anything unknown reads as INTERNAL. */
export function asErrorCode(value: unknown): ErrorCode {
  return isErrorCode(value) ? value : 'INTERNAL';
}

/** Whether a worker discards a job at once when its step fails with this code (else it retries). */
export function discardsJob(code: ErrorCode): boolean {
  return ERRORS[code].worker === 'discard';
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

export class SfaError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SfaError';
    this.code = code;
  }

  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message };
  }
}

/** Any thrown value as an ErrorInfo a user can read; unknown errors and codes become INTERNAL. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof SfaError) return error.toJSON();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (isErrorCode(code) && typeof message === 'string') return { code, message };
  }
  const message = (error as { message?: unknown } | null)?.message;
  return { code: 'INTERNAL', message: typeof message === 'string' ? message : String(error) };
}
