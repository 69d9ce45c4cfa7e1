import { appendFileSync } from 'node:fs';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/**
 * Logs go to a file under `<home>/logs` and, at or above `consoleLevel`, to stderr. Never to
 * stdout: the CLI's `--json` output and the sidecar protocol own stdout.
 */
export function createLogger(options: { file?: string; consoleLevel?: Level | 'silent' } = {}): Logger {
  const consoleLevel = options.consoleLevel ?? ((process.env.SFA_LOG as Level | undefined) || 'warn');
  const write = (level: Level, message: string) => {
    const line = `${new Date().toISOString()} ${level.toUpperCase()} ${message}`;
    if (options.file) {
      try {
        appendFileSync(options.file, `${line}\n`);
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
