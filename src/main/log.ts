import { appendFileSync, renameSync, rmSync, statSync } from 'node:fs';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Rotation defaults: `engine.log` is moved to `engine.log.1` (then .2, .3) past 5 MB; 3 old files kept. */
export const LOG_MAX_BYTES = 5 * 1024 * 1024;
export const LOG_KEEP = 3;

/** `file` -> `file.1` -> ... -> `file.<keep>` (the oldest is dropped). */
export function rotateLog(file: string, keep = LOG_KEEP): void {
  rmSync(`${file}.${keep}`, { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(`${file}.${i}`, `${file}.${i + 1}`);
    } catch {
      // that generation does not exist yet
    }
  }
  renameSync(file, `${file}.1`);
}

/**
 * Logs go to a file under `<home>/logs` and, at or above `consoleLevel`, to stderr. Never to
 * stdout: the CLI's `--json` output and the sidecar protocol own stdout. The file rotates at
 * `maxBytes` (default 5 MB), keeping `keep` (3) older files: engine.log.1 (newest) ... .3.
 */
export function createLogger(options: { file?: string; consoleLevel?: Level | 'silent'; maxBytes?: number; keep?: number } = {}): Logger {
  const consoleLevel = options.consoleLevel ?? ((process.env.SFA_LOG as Level | undefined) || 'warn');
  const maxBytes = options.maxBytes ?? LOG_MAX_BYTES;
  // the size is read once, then counted: no stat per line
  let size: number | null = null;
  const write = (level: Level, message: string) => {
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
    if (options.file) {
      try {
        if (size === null) {
          try {
            size = statSync(options.file).size;
          } catch {
            size = 0;
          }
        }
        const bytes = Buffer.byteLength(line) + 1;
        if (size > 0 && size + bytes > maxBytes) {
          rotateLog(options.file, options.keep ?? LOG_KEEP);
          size = 0;
        }
        appendFileSync(options.file, `${line}\n`);
        size += bytes;
      } catch {
        // a full or read-only disk must not take logging callers down with it
      }
    }
    if (consoleLevel !== 'silent' && ORDER[level] >= ORDER[consoleLevel]) process.stderr.write(`${line}\n`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
