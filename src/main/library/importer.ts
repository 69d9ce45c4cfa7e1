import { stat } from 'node:fs/promises';
import { basename, extname, resolve } from 'node:path';
import type { AddError, AddResult, Track } from '../../shared/domain';
import { SfaError, toErrorInfo } from '../../shared/errors';
import { looksLikeLink, recogniseLink } from '../../shared/links';
import type { SidecarPool } from '../sidecar/pool';
import { scanFolder, sha256File } from './files';
import type { TrackRepository } from './tracks';

export interface ProbeResult {
  duration: number | null;
  sampleRate: number;
  channels: number;
  codec: string;
  tags: Record<string, string>;
}

export interface AddedTrack {
  track: Track;
  /** False when the input matched a track already in the library. */
  created: boolean;
}

/** Probing more files at once than this gains nothing on 2 cores and floods the sidecar. */
const PROBE_CONCURRENCY = 4;

/**
 * Turns user inputs (files, folders, links) into tracks. Files are referenced where they are;
 * the same content twice is one track (content hash); links become pending tracks whose download
 * the pipeline schedules. Every rejected input becomes an error entry; the others go on.
 */
export class Importer {
  constructor(
    private readonly tracks: TrackRepository,
    private readonly probePool: SidecarPool,
  ) {}

  async add(inputs: string[]): Promise<{ added: AddedTrack[]; errors: AddError[] }> {
    const added: AddedTrack[] = [];
    const errors: AddError[] = [];
    const files: { input: string; path: string }[] = [];
    for (const input of inputs) {
      if (looksLikeLink(input)) {
        const link = recogniseLink(input);
        if (!link.ok) {
          errors.push({ input, code: 'INVALID_LINK', message: `Not a supported link: ${link.reason}.` });
          continue;
        }
        const existing = this.tracks.findByLink(link.canonical);
        if (existing) {
          added.push({ track: existing, created: false });
          continue;
        }
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
        added.push({ track, created: true });
        continue;
      }
      const path = resolve(input);
      let info;
      try {
        info = await stat(path);
      } catch (error) {
        errors.push(statError(input, error));
        continue;
      }
      if (info.isDirectory()) {
        const scan = await scanFolder(path);
        for (const file of scan.files) files.push({ input: file, path: file });
        for (const problem of scan.problems) errors.push({ input: problem.path, code: 'UNREADABLE', message: problem.message });
        if (scan.files.length === 0 && scan.problems.length === 0) {
          errors.push({ input, code: 'NO_AUDIO', message: `No audio files found in ${input}` });
        }
      } else if (info.isFile()) {
        files.push({ input, path });
      } else {
        errors.push({ input, code: 'NOT_AUDIO', message: `${input} is not a regular file` });
      }
    }

    let next = 0;
    const work = async () => {
      while (next < files.length) {
        const file = files[next++]!;
        try {
          added.push(await this.importFile(file.path));
        } catch (error) {
          const info = toErrorInfo(error);
          errors.push({ input: file.input, code: info.code, message: info.message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(PROBE_CONCURRENCY, files.length) }, work));
    return { added, errors };
  }

  private async importFile(path: string): Promise<AddedTrack> {
    const hash = await sha256File(path);
    const existing = this.tracks.findByHash(hash);
    if (existing) return { track: existing, created: false };
    const probe = await this.probePool.run<ProbeResult>('probe', { path }, { timeoutMs: 60_000 });
    if (probe.duration !== null && probe.duration <= 0) {
      throw new SfaError('NOT_AUDIO', `${basename(path)} contains no audio (duration 0).`);
    }
    try {
      return { track: this.insertFile(path, hash, probe), created: true };
    } catch (error) {
      // The same content added twice at once: the unique index lets exactly one insert win.
      const winner = /UNIQUE/.test((error as Error).message) ? this.tracks.findByHash(hash) : undefined;
      if (winner) return { track: winner, created: false };
      throw error;
    }
  }

  private insertFile(path: string, hash: string, probe: ProbeResult): Track {
    return this.tracks.insert({
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
    });
  }
}

/** Why a path cannot be added, in words: missing, a symbolic link loop, or not readable. */
function statError(input: string, error: unknown): AddError {
  const code = (error as NodeJS.ErrnoException)?.code;
  if (code === 'ELOOP') return { input, code: 'UNREADABLE', message: `${input} is a symbolic link loop (it points back at itself).` };
  if (code === 'EACCES' || code === 'EPERM') return { input, code: 'UNREADABLE', message: `Permission denied: ${input}` };
  if (code === 'ENAMETOOLONG') return { input, code: 'FILE_NOT_FOUND', message: `The path is too long: ${input.slice(0, 200)}…` };
  return { input, code: 'FILE_NOT_FOUND', message: `No such file or folder: ${input}` };
}

export function toAddResult(result: { added: AddedTrack[]; errors: AddError[] }): AddResult {
  return {
    tracks: result.added.map(({ track }) => ({ id: track.id, title: track.title, source: track.source })),
    errors: result.errors,
  };
}
