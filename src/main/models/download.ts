/**
 * One resumable, verified HTTP download into a `.part` file.
 *
 * - Resume: when the `.part` file already holds bytes (an earlier attempt, or an earlier run that
 *   was interrupted) the request asks `Range: bytes=<have>-`; a `206` with a matching
 *   `Content-Range` appends, a `200` starts over, a `416` means the file is already whole.
 * - Size: the bytes received must add up to the size the server announced.
 * - Checksum: the sha256 of the whole file must start with the expected prefix (the one in the
 *   official file name); on a mismatch the `.part` file is deleted.
 * - Interrupted transfers (reset connection, stalled for `stallTimeoutMs`, 5xx) are retried with
 *   resume up to `retries` times; 4xx answers and checksum mismatches are not.
 * The caller renames the verified `.part` file into place.
 */
import { createHash } from 'node:crypto';
import { createReadStream, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { SfaError } from '../../shared/errors';
import { fileSize } from './repo';

export type FetchFn = (url: string, init: { headers: Record<string, string>; signal: AbortSignal }) => Promise<Response>;

export interface DownloadOptions {
  url: string;
  /** The `.part` file written (and resumed from). */
  part: string;
  /** Expected hex prefix of the file's sha256. */
  sha256: string;
  fetch?: FetchFn;
  signal?: AbortSignal;
  /** Bytes on disk so far and the announced total (null until known). */
  onBytes?: (bytes: number, total: number | null) => void;
  /** Further attempts after an interrupted transfer (default 3). */
  retries?: number;
  retryDelayMs?: number;
  /** Abort an attempt when no byte arrives for this long (default 30 s). */
  stallTimeoutMs?: number;
}

/** A failure that says why in words a user understands; `retry` marks transient ones. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly retry: boolean,
    readonly code: 'NETWORK' | 'HTTP' | 'SIZE' | 'CHECKSUM' = 'NETWORK',
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function describe(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  const cause = e?.cause?.code ?? e?.cause?.message;
  return [e?.message ?? String(error), cause && !String(e?.message).includes(cause) ? cause : null].filter(Boolean).join(': ');
}

/** Download `url` into `part`, resuming what is there; resolves once the file is whole and verified. */
export async function downloadFile(options: DownloadOptions): Promise<{ bytes: number; resumed: boolean }> {
  const fetchFn: FetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  const retries = options.retries ?? 3;
  const stallMs = options.stallTimeoutMs ?? 30_000;
  let resumed = false;
  let total: number | null = null;
  for (let attempt = 0; ; attempt++) {
    if (options.signal?.aborted) throw new SfaError('CANCELLED', 'The download was cancelled.');
    try {
      total = await attemptOnce(fetchFn, options, stallMs, total, () => (resumed = true));
      break;
    } catch (error) {
      if (options.signal?.aborted) throw new SfaError('CANCELLED', 'The download was cancelled.');
      const failure = error instanceof DownloadError ? error : new DownloadError(describe(error), true);
      if (!failure.retry || attempt >= retries) throw failure;
      await new Promise((r) => setTimeout(r, (options.retryDelayMs ?? 1000) * (attempt + 1)));
    }
  }
  const bytes = fileSize(options.part);
  if (total !== null && bytes !== total) {
    rmSync(options.part, { force: true });
    throw new DownloadError(`size mismatch: got ${bytes} bytes, expected ${total}`, false, 'SIZE');
  }
  const digest = await sha256File(options.part);
  if (!digest.startsWith(options.sha256.toLowerCase())) {
    rmSync(options.part, { force: true });
    throw new DownloadError(`checksum mismatch: sha256 ${digest.slice(0, options.sha256.length)}, expected ${options.sha256}`, false, 'CHECKSUM');
  }
  return { bytes, resumed };
}

/** One request; returns the file's total size when the server said it. */
async function attemptOnce(fetchFn: FetchFn, options: DownloadOptions, stallMs: number, knownTotal: number | null, markResumed: () => void): Promise<number | null> {
  let have = fileSize(options.part);
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      controller.abort();
    }, stallMs);
  };
  try {
    arm();
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity', ...(have > 0 ? { Range: `bytes=${have}-` } : {}) };
    let res: Response;
    try {
      res = await fetchFn(options.url, { headers, signal: controller.signal });
    } catch (error) {
      if (stalled) throw new DownloadError(`no answer from ${new URL(options.url).host} in ${Math.round(stallMs / 1000)} s`, true);
      // Offline (no DNS, nothing listening, no route): retrying within seconds does not help.
      const reason = describe(error);
      throw new DownloadError(reason, !/ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ENETUNREACH|EHOSTUNREACH|bad port|Invalid URL/i.test(reason));
    }
    let total = knownTotal;
    let append = false;
    if (res.status === 416 && have > 0) {
      // Range not satisfiable: what we have is already the whole file (verified by the caller).
      await res.body?.cancel();
      const range = /\/(\d+)/.exec(res.headers.get('content-range') ?? '');
      return range ? Number(range[1]) : have;
    }
    if (res.status === 206 && have > 0) {
      const range = /bytes\s+(\d+)-\d+\/(\d+|\*)/.exec(res.headers.get('content-range') ?? '');
      if (range && Number(range[1]) === have) {
        append = true;
        markResumed();
        if (range[2] !== '*') total = Number(range[2]);
      }
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw new DownloadError(`HTTP ${res.status} ${res.statusText} from ${options.url}`, res.status >= 500 || res.status === 429, 'HTTP');
    }
    if (!append) {
      have = 0;
      const length = res.headers.get('content-length');
      total = length !== null && /^\d+$/.test(length) ? Number(length) : null;
    }
    options.onBytes?.(have, total);
    const file = await open(options.part, append ? 'a' : 'w');
    try {
      const reader = res.body?.getReader();
      if (!reader) throw new DownloadError('empty response body', true);
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw new DownloadError(stalled ? `the transfer stalled for ${Math.round(stallMs / 1000)} s` : `connection lost after ${have} bytes (${describe(error)})`, true);
        }
        if (chunk.done) break;
        arm();
        await file.write(chunk.value);
        have += chunk.value.byteLength;
        options.onBytes?.(have, total);
      }
    } finally {
      await file.close();
    }
    if (total !== null && have < total) throw new DownloadError(`connection closed after ${have} of ${total} bytes`, true);
    return total;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}
