import { toErrorInfo, type ErrorInfo } from '../../shared/errors';

/** Exit codes of the CLI contract (DESIGN.md 4.1). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Error codes that mean "your input was rejected" (exit 2) rather than "the work failed" (exit 1). */
const USAGE_CODES = new Set(['BAD_REQUEST', 'UNKNOWN_REQUEST', 'USAGE', 'INVALID_LINK', 'FILE_NOT_FOUND', 'NOT_AUDIO', 'NOT_FOUND', 'CLUSTER_ADDRESS']);

export function exitCodeFor(error: ErrorInfo): number {
  return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.failed;
}

export interface Output {
  json: boolean;
  /** The command's result: JSON on stdout with --json, else the human rendering. */
  result(value: unknown, human: () => string): void;
  /** A failure: `{error}` JSON on stdout with --json, else a message on stderr. Returns the exit code. */
  fail(error: unknown): number;
  /** Progress and notes for people: stderr, never stdout. */
  note(message: string): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    result(value, human) {
      if (json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
      else {
        const text = human();
        if (text) process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
      }
    },
    fail(error) {
      const info = toErrorInfo(error);
      if (json) process.stdout.write(`${JSON.stringify({ error: info }, null, 2)}\n`);
      else process.stderr.write(`sfa: ${info.message}${info.code === 'INTERNAL' ? '' : ` [${info.code}]`}\n`);
      return exitCodeFor(info);
    },
    note(message) {
      if (!json) process.stderr.write(`${message}\n`);
    },
  };
}

/** A plain text table: columns padded to their widest cell. */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (c ?? '').padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '';
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return `${m}:${String(s).padStart(2, '0')}`;
}
