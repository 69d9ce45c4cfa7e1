import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { AddError, AddResult, ImportCounts, Track } from '../../shared/domain';
import { toErrorInfo } from '../../shared/errors';
import { looksLikeLink, recogniseLink } from '../../shared/links';
import type { SidecarPool } from '../sidecar/pool';
import { sha256File, walkAudioFiles } from './files';
import { probeFiles, type ProbeResult } from './probe-batch';
import type { NewTrack, TrackRepository } from './tracks';

export type { ProbeResult } from './probe-batch';

export interface AddedTrack {
  track: Track;
  /** False when the input matched a track already in the library. */
  created: boolean;
}

export interface ImportOptions {
  /** Each batch's new tracks, once they are in the library (the pipeline enqueues them then). */
  onBatch?(created: Track[]): Promise<void> | void;
  /** A few times a second at most while files go by, and once with `done` at the end. */
  onProgress?(counts: ImportCounts, done: boolean): void;
  /** Keep counts and the first errors only (`added` stays empty): memory stays flat however many files. */
  summaryOnly?: boolean;
}

export interface ImportOutcome {
  added: AddedTrack[];
  errors: AddError[];
  counts: ImportCounts;
}

/** Files per batch: hashed together, probed in one or two sidecar requests, inserted in one transaction. */
export const IMPORT_BATCH = 64;
/** Hashing is I/O: a few files at once keep the disk busy without holding many buffers. */
const HASH_CONCURRENCY = 8;
/** Errors kept in a summary (the counts still count all). */
const SUMMARY_ERRORS = 1000;
const PROGRESS_INTERVAL_MS = 200;

interface Candidate {
  input: string;
  path: string;
}

type Hashed = Candidate & ({ hash: string } | { error: AddError });

/**
 * Turns user inputs (files, folders, links) into tracks. Files are referenced where they are;
 * the same content twice is one track (content hash); links become pending tracks whose download
 * the pipeline schedules. Every rejected input becomes an error entry; the others go on.
 *
 * Files stream through in batches: folders are walked lazily, the next batch is hashed while the
 * current one is probed (one ffmpeg run per probe request), each batch is inserted in one
 * transaction and handed to `onBatch`, and the event loop gets a turn between batches. Memory
 * holds two batches, whatever the size of the drop.
 */
export class Importer {
  constructor(
    private readonly tracks: TrackRepository,
    private readonly probePool: SidecarPool,
  ) {}

  async add(inputs: string[], options: ImportOptions = {}): Promise<ImportOutcome> {
    const outcome: ImportOutcome = { added: [], errors: [], counts: { seen: 0, imported: 0, skipped: 0, failed: 0 } };
    const { counts } = outcome;
    let lastProgress = 0;
    const progress = (done: boolean) => {
      const now = Date.now();
      if (!done && now - lastProgress < PROGRESS_INTERVAL_MS) return;
      lastProgress = now;
      options.onProgress?.({ ...counts }, done);
    };
    const fail = (error: AddError) => {
      counts.seen++;
      counts.failed++;
      if (!options.summaryOnly || outcome.errors.length < SUMMARY_ERRORS) outcome.errors.push(error);
    };
    const found = (added: AddedTrack) => {
      counts.seen++;
      if (added.created) counts.imported++;
      else counts.skipped++;
      if (!options.summaryOnly) outcome.added.push(added);
    };

    // Links are added as the walk meets them (errors stay in input order) and join the next batch.
    const links: AddedTrack[] = [];
    const files = this.candidates(inputs, fail, (link) => links.push(link))[Symbol.asyncIterator]();
    let hashing = hashAll(await take(files, IMPORT_BATCH));
    for (;;) {
      const hashed = await hashing;
      const created: Track[] = [];
      for (const link of links.splice(0)) {
        found(link);
        if (link.created) created.push(link.track);
      }
      if (!hashed.length) {
        if (created.length) await options.onBatch?.(created);
        break;
      }
      // The next batch hashes while this one is probed: the disk and the probe sidecar both work.
      hashing = take(files, IMPORT_BATCH).then(hashAll);
      hashing.catch(() => undefined); // awaited at the next turn; not an unhandled rejection meanwhile
      for (const result of await this.importBatch(hashed)) {
        if ('error' in result) fail(result.error);
        else {
          found(result);
          if (result.created) created.push(result.track);
        }
      }
      if (created.length) await options.onBatch?.(created);
      progress(false);
      await new Promise((next) => setImmediate(next));
    }
    progress(true);
    return outcome;
  }

  private addLink(input: string, fail: (error: AddError) => void): AddedTrack | null {
    const link = recogniseLink(input);
    if (!link.ok) {
      fail({ input, code: 'INVALID_LINK', message: `Not a supported link: ${link.reason}.` });
      return null;
    }
    const existing = this.tracks.findByLink(link.canonical);
    if (existing) return { track: existing, created: false };
    const track = this.tracks.insert({
      title: link.canonical,
      artist: null,
      album: null,
      sourceKind: link.kind,
      source: link.canonical,
      path: null,
      contentHash: null,
      duration: null,
      sampleRate: null,
      channels: null,
      codec: null,
      status: 'pending',
    });
    return { track, created: true };
  }

  /** The files named by the inputs, folders walked lazily; links go to `onLink`, what cannot be read to `fail`. */
  private async *candidates(inputs: string[], fail: (error: AddError) => void, onLink: (link: AddedTrack) => void): AsyncGenerator<Candidate> {
    for (const input of inputs) {
      if (looksLikeLink(input)) {
        const link = this.addLink(input, fail);
        if (link) onLink(link);
        continue;
      }
      const path = resolve(input);
      let info;
      try {
        info = await stat(path);
      } catch (error) {
        fail(statError(input, error));
        continue;
      }
      if (info.isFile()) yield { input, path };
      else if (!info.isDirectory()) fail({ input, code: 'NOT_AUDIO', message: `${input} is not a regular file` });
      else {
        let any = false;
        for await (const entry of walkAudioFiles(path)) {
          if (entry.kind === 'skipped') continue;
          any = true;
          if (entry.kind === 'audio') yield { input: entry.path, path: entry.path };
          else fail({ input: entry.path, code: 'UNREADABLE', message: entry.message });
        }
        if (!any) fail({ input, code: 'NO_AUDIO', message: `No audio files found in ${input}` });
      }
    }
  }

  /** One batch: known content is found, not probed; the rest is probed and inserted in one transaction. */
  private async importBatch(batch: Hashed[]): Promise<(AddedTrack | { error: AddError })[]> {
    const results: (AddedTrack | { error: AddError } | undefined)[] = new Array(batch.length);
    // The first file of each new content is probed; copies of it in the batch follow its outcome.
    const firstOf = new Map<string, number>();
    const toProbe: number[] = [];
    batch.forEach((file, i) => {
      if ('error' in file) results[i] = { error: file.error };
      else if (!firstOf.has(file.hash)) {
        firstOf.set(file.hash, i);
        const existing = this.tracks.findByHash(file.hash);
        if (existing) results[i] = { track: existing, created: false };
        else toProbe.push(i);
      }
    });
    const probes = await probeFiles(this.probePool, toProbe.map((i) => batch[i]!.path));
    const rows: { index: number; track: NewTrack }[] = [];
    toProbe.forEach((i, k) => {
      const file = batch[i] as Candidate & { hash: string };
      const probe = probes[k]!;
      if ('error' in probe) results[i] = { error: { input: file.input, code: probe.error.code, message: probe.error.message } };
      else if (probe.ok.duration !== null && probe.ok.duration <= 0) {
        results[i] = { error: { input: file.input, code: 'NOT_AUDIO', message: `${basename(file.path)} contains no audio (duration 0).` } };
      } else rows.push({ index: i, track: fileTrack(file.path, file.hash, probe.ok) });
    });
    try {
      this.tracks.insertFiles(rows.map((r) => r.track)).forEach((added, k) => (results[rows[k]!.index] = added));
    } catch (error) {
      const info = toErrorInfo(error);
      for (const { index } of rows) results[index] = { error: { input: batch[index]!.input, code: info.code, message: info.message } };
    }
    return batch.map((file, i) => {
      const own = results[i];
      if (own) return own;
      const first = results[firstOf.get((file as { hash: string }).hash)!]!;
      return 'error' in first ? { error: { ...first.error, input: file.input } } : { track: first.track, created: false };
    });
  }
}

function fileTrack(path: string, hash: string, probe: ProbeResult): NewTrack {
  return {
    title: probe.tags.title?.trim() || basename(path, extname(path)),
    artist: probe.tags.artist?.trim() || probe.tags.album_artist?.trim() || null,
    album: probe.tags.album?.trim() || null,
    sourceKind: 'file',
    source: path,
    path,
    contentHash: hash,
    duration: probe.duration,
    sampleRate: probe.sampleRate,
    channels: probe.channels,
    codec: probe.codec,
    status: 'ready',
  };
}

async function take<T>(iterator: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

async function hashAll(files: Candidate[]): Promise<Hashed[]> {
  const out: Hashed[] = new Array(files.length);
  let next = 0;
  const work = async () => {
    while (next < files.length) {
      const i = next++;
      const file = files[i]!;
      try {
        out[i] = { ...file, hash: await sha256File(file.path) };
      } catch (error) {
        out[i] = { ...file, error: readError(file.input, error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HASH_CONCURRENCY, files.length) }, work));
  return out;
}

/** A file that vanished or became unreadable between the walk and the read. */
function readError(input: string, error: unknown): AddError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'EISDIR') return { input, code: 'NOT_AUDIO', message: `${input} is not a regular file` };
  return code === 'ENOENT' || code === 'ELOOP' || code === 'EACCES' || code === 'EPERM' || code === 'ENAMETOOLONG'
    ? statError(input, error)
    : { input, code: 'UNREADABLE', message: `Cannot read ${input}: ${(error as Error).message}` };
}

/** Why a path cannot be added, in words: missing, a symbolic link loop, or not readable. */
function statError(input: string, error: unknown): AddError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ELOOP') return { input, code: 'UNREADABLE', message: `${input} is a symbolic link loop (it points back at itself).` };
  if (code === 'EACCES' || code === 'EPERM') return { input, code: 'UNREADABLE', message: `Permission denied: ${input}` };
  if (code === 'ENAMETOOLONG') return { input, code: 'FILE_NOT_FOUND', message: `The path is too long: ${input.slice(0, 200)}…` };
  return { input, code: 'FILE_NOT_FOUND', message: `No such file or folder: ${input}` };
}

export function toAddResult(result: ImportOutcome): AddResult {
  return {
    tracks: result.added.map(({ track }) => ({ id: track.id, title: track.title, source: track.source })),
    errors: result.errors,
    counts: result.counts,
  };
}
