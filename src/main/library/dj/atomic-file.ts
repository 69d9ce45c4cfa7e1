import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SfaError } from '../../../shared/errors';

const FLUSH_BYTES = 256 * 1024;

/**
 * A text file written in pieces to a temporary name in the target's folder, then fsynced and
 * renamed over the target: the final name only ever holds a complete file. Memory stays bounded
 * (one buffer of FLUSH_BYTES); a full disk or a refused folder becomes a typed error and the
 * temporary file is removed.
 */
export class AtomicTextFile {
  readonly target: string;
  private readonly temp: string;
  private fd: number | null;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(target: string) {
    this.target = resolve(target);
    const folder = dirname(this.target);
    this.temp = join(folder, `.${basename(this.target).slice(0, 80)}.${process.pid}.${Date.now().toString(36)}.part`);
    try {
      mkdirSync(folder, { recursive: true });
      this.fd = openSync(this.temp, 'wx', 0o644);
    } catch (error) {
      throw writeError(error, this.target);
    }
  }

  write(text: string): void {
    this.buffer.push(text);
    this.buffered += text.length;
    if (this.buffered >= FLUSH_BYTES) this.flush();
  }

  /** Make the file appear, whole, under its final name. */
  commit(): string {
    try {
      this.flush();
      fsyncSync(this.fd!);
      closeSync(this.fd!);
      this.fd = null;
      renameSync(this.temp, this.target);
      syncFolder(dirname(this.target));
      return this.target;
    } catch (error) {
      this.abort();
      throw writeError(error, this.target);
    }
  }

  /** Drop the temporary file; the final name is left as it was. */
  abort(): void {
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already closed by a failed write
      }
      this.fd = null;
    }
    rmSync(this.temp, { force: true });
  }

  private flush(): void {
    if (!this.buffered) return;
    const chunk = Buffer.from(this.buffer.join(''), 'utf8');
    this.buffer = [];
    this.buffered = 0;
    try {
      let done = 0;
      while (done < chunk.length) done += writeSync(this.fd!, chunk, done);
    } catch (error) {
      this.abort();
      throw writeError(error, this.target);
    }
  }
}

function syncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Windows cannot open a folder: the rename stands
  }
}

/** An OSError while writing `target` as a typed error a user can act on. */
export function writeError(error: unknown, target: string): SfaError {
  if (error instanceof SfaError) return error;
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    return new SfaError('DISK_FULL', `The disk is full while writing ${target}: nothing was written under that name. Free some space and export again.`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new SfaError('PERMISSION_DENIED', `Cannot write ${target}: the folder is read-only or not yours. Choose another place.`);
  }
  if (code === 'ENOTDIR' || code === 'EISDIR') return new SfaError('BAD_REQUEST', `Cannot write ${target}: ${code === 'EISDIR' ? 'it is a folder' : 'a part of the path is a file'}.`);
  return new SfaError('INTERNAL', `Cannot write ${target}: ${(error as Error)?.message ?? String(error)}`);
}
