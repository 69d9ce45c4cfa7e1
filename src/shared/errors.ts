/**
 * Typed errors that cross every boundary (engine -> IPC/WebSocket -> renderer, engine -> CLI).
 * A code is stable and machine-readable; a message tells the user what happened and what to do.
 */
export const ERROR_CODES = [
  'BAD_REQUEST', // the request does not match the contract
  'UNKNOWN_REQUEST', // no such request name
  'NOT_FOUND', // a track, job or file id that does not exist
  'FILE_NOT_FOUND', // a path that does not exist on disk
  'NOT_AUDIO', // a file that ffmpeg cannot read as audio
  'INVALID_LINK', // text that is not a supported Spotify/YouTube link
  'HOME_LOCKED', // another process holds the data folder
  'SIDECAR_UNAVAILABLE', // the Python environment is missing or broken
  'SIDECAR_CRASHED', // the sidecar died while working on the request
  'SIDECAR_TIMEOUT', // the sidecar did not answer in time
  'CANCELLED', // the user cancelled the work
  'DISK_FULL', // no space left where we write
  'PERMISSION_DENIED', // a folder we must write to is read-only or not ours
  'DATABASE_LOCKED', // another program holds a lock on the library database
  'UNSUPPORTED', // a valid request this host or build cannot serve
  'INTERNAL', // a bug: the message has the details
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number] | (string & {});

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

/** Any thrown value as an ErrorInfo a user can read; unknown errors become INTERNAL. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof SfaError) return error.toJSON();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error as { code: unknown; message: unknown };
    if (typeof code === 'string' && typeof message === 'string' && /^[A-Z_]+$/.test(code)) {
      return { code, message };
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'INTERNAL', message };
}
