import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StemFileFormat, StemFilesExport } from '../../../shared/dj';
import type { TrackDetail } from '../../../shared/domain';
import { toErrorInfo } from '../../../shared/errors';
import { safeFileName } from '../../../shared/filenames';
import type { SidecarPool } from '../../sidecar/pool';
import type { AnalysisRepository } from '../analyses';
import type { TrackRepository } from '../tracks';
import { writeError } from './atomic-file';
import { djEntry, selectTracks, unfit, type Skipped } from './entries';
import { standardKey } from './keys';

export interface StemExportDeps {
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  trackDetail(id: string): TrackDetail;
  /** The sidecar pool that encodes (ffmpeg) and tags (mutagen). */
  sidecar: SidecarPool;
}

const TIMEOUT_MS = 15 * 60_000;


/**
 * The stems of `ids` (or every track with stems) into `dir`: one `.stem.mp4` per track (NI
 * Stems), or one file per stem. Two tracks with the same title get " (2)", " (3)"...; tracks
 * without stems, or whose files are missing, are skipped with the reason.
 */
export async function exportStemFiles(
  deps: StemExportDeps,
  ids: readonly string[] | undefined,
  options: { dir: string; format: StemFileFormat; codec: 'aac' | 'alac' },
  onProgress: (done: number, total: number) => void = () => {},
): Promise<StemFilesExport> {
  const dir = resolve(options.dir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    throw writeError(error, dir);
  }
  const hasStems = (id: string) => deps.trackDetail(id).stems !== null;
  const { tracks, skipped } = selectTracks(deps.tracks, hasStems, ids);
  const files: string[] = [];
  const used = new Set<string>();
  for (const [i, track] of tracks.entries()) {
    onProgress(i, tracks.length);
    const skip = (code: string, reason: string) => skipped.push({ trackId: track.id, title: track.title, code, reason } satisfies Skipped);
    const stems = deps.trackDetail(track.id).stems;
    if (!stems) {
      skip('NOT_FOUND', `${track.title} has no stems yet: separate it first.`);
      continue;
    }
    const why = options.format === 'stem.mp4' ? unfit(track, true, false) : null;
    if (why) {
      skipped.push(why);
      continue;
    }
    let base = safeFileName(track.title, 'track');
    for (let n = 2; used.has(base.toLowerCase()); n++) base = `${safeFileName(track.title, 'track')} (${n})`;
    used.add(base.toLowerCase());
    try {
      if (options.format === 'stem.mp4') {
        const entry = djEntry(track, deps.analyses);
        const out = await deps.sidecar.run<{ file: string }>(
          'stems_mp4',
          {
            mix: track.path,
            stems,
            out: join(dir, `${base}.stem.mp4`),
            codec: options.codec,
            tags: { title: track.title, artist: track.artist, album: track.album, bpm: entry ? Math.round(entry.bpm) : null, key: entry?.key ? standardKey(entry.key) : null },
          },
          { timeoutMs: TIMEOUT_MS },
        );
        files.push(out.file);
      } else {
        const out = await deps.sidecar.run<{ files: string[] }>('stems_plain', { stems, dir, base, format: options.format }, { timeoutMs: TIMEOUT_MS });
        files.push(...out.files);
      }
    } catch (error) {
      const info = toErrorInfo(error);
      // A full disk or a refused folder stops the export: every next track would fail the same way.
      if (info.code === 'DISK_FULL' || info.code === 'PERMISSION_DENIED') throw error;
      skip(info.code, `${track.title}: ${info.message}`);
    }
  }
  onProgress(tracks.length, tracks.length);
  return { dir, files, skipped };
}
