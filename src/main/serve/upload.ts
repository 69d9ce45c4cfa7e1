import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { safeFileName } from '../../shared/filenames';

export const DEFAULT_UPLOAD_LIMIT = 2 * 1024 ** 3;

export class UploadError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A file name a user gave, made safe to create: no folders, no control or reserved characters,
 * no leading dots, at most 200 characters (extension kept), never empty.
 */
export function sanitiseFileName(name: string | null | undefined): string {
  return safeFileName((name ?? '').split(/[/\\]/).pop(), 'upload', 200);
}

/**
 * Streams a request body to `<uploads>/<uuid>/<name>`: written to `<name>.part` first and renamed
 * once complete, so a half-received file never looks like a finished one; the part file (and its
 * folder) is removed when the client aborts or the body is over `limit` bytes (413).
 */
export async function receiveUpload(req: IncomingMessage, uploads: string, name: string | null, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new UploadError(413, 'TOO_LARGE', `The file is larger than the upload limit (${limit} bytes).`);
  }
  const dir = join(uploads, randomUUID());
  const finalPath = join(dir, sanitiseFileName(name));
  const partPath = `${finalPath}.part`;
  await mkdir(dir, { recursive: true });
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      if (received > limit) callback(new UploadError(413, 'TOO_LARGE', `The file is larger than the upload limit (${limit} bytes).`));
      else callback(null, chunk);
    },
  });
  try {
    await pipeline(req, counter, createWriteStream(partPath, { flags: 'wx' }));
    if (!req.complete) throw new UploadError(400, 'ABORTED', 'The upload was interrupted.');
    await rename(partPath, finalPath);
    return finalPath;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    if (error instanceof UploadError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC') throw new UploadError(507, 'DISK_FULL', 'No space left on the disk holding the data folder.');
    if (code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET') throw new UploadError(400, 'ABORTED', 'The upload was interrupted.');
    throw error;
  }
}
