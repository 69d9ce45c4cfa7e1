import type { FileTags, TagsResult, TagsView } from '../../../shared/dj';
import type { KeyNotation, Settings } from '../../../shared/domain';
import { SfaError, toErrorInfo } from '../../../shared/errors';
import type { SidecarPool } from '../../sidecar/pool';
import type { AnalysisRepository } from '../analyses';
import type { TrackRepository } from '../tracks';
import { djEntry, selectTracks, unfit, type Skipped } from './entries';
import { keyIn, standardKey, type KeyFields } from './keys';
import type { RawTagValues, TagBackupRepository } from './tag-backups';

export interface TagDeps {
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  backups: TagBackupRepository;
  /** The sidecar pool whose process edits the files (mutagen). */
  sidecar: SidecarPool;
}

const TIMEOUT_MS = 60_000;

/** The fields a tag write changes for a track's analysis and the user's settings. */
export function tagValues(
  analysis: { bpm: number; key: KeyFields | null; energy: number | null },
  notation: KeyNotation,
  energyField: Settings['energyField'],
): { bpm: number; key: string | null; energy: { field: 'comment' | 'grouping'; level: number } | null } {
  return {
    bpm: analysis.bpm,
    key: analysis.key ? keyIn(notation, analysis.key) : null,
    energy: energyField !== 'none' && analysis.energy !== null ? { field: energyField, level: Math.round(analysis.energy) } : null,
  };
}

function skipFor(trackId: string, title: string, error: unknown): Skipped {
  const info = toErrorInfo(error);
  return { trackId, title, code: info.code, reason: info.message };
}

/**
 * Write BPM, key and energy into the audio files of `ids` (or every analysed track). Only files
 * the library registered for these tracks are touched; each write is atomic in the sidecar, and
 * the values it replaced are kept (tag_backups) for `restoreTags`.
 */
export async function writeTags(
  deps: TagDeps,
  ids: readonly string[] | undefined,
  options: { notation: KeyNotation; energyField: Settings['energyField'] },
  onProgress: (done: number, total: number) => void = () => {},
): Promise<TagsResult> {
  const summaries = deps.analyses.summaries();
  const analysed = (id: string) => typeof summaries.get(id)?.bpm === 'number';
  const { tracks, skipped } = selectTracks(deps.tracks, analysed, ids);
  const files: string[] = [];
  for (const [i, track] of tracks.entries()) {
    onProgress(i, tracks.length);
    const why = unfit(track, analysed(track.id));
    if (why) {
      skipped.push(why);
      continue;
    }
    const entry = djEntry(track, deps.analyses);
    if (!entry) {
      skipped.push({ trackId: track.id, title: track.title, code: 'NOT_FOUND', reason: `${track.title} has no tempo in its analysis: analyse it again.` });
      continue;
    }
    try {
      const out = await deps.sidecar.run<{ format: string; previous: RawTagValues; written: RawTagValues }>(
        'tags_write',
        { path: entry.path, ...tagValues(entry, options.notation, options.energyField) },
        { timeoutMs: TIMEOUT_MS },
      );
      deps.backups.recordWrite(track.id, entry.path, out.format, out.previous, out.written);
      files.push(entry.path);
    } catch (error) {
      skipped.push(skipFor(track.id, track.title, error));
    }
  }
  onProgress(tracks.length, tracks.length);
  return { written: files.length, files, skipped };
}

/** Put back the values our writes replaced, for `ids` (or every track we wrote tags into). */
export async function restoreTags(deps: TagDeps, ids: readonly string[] | undefined, onProgress: (done: number, total: number) => void = () => {}): Promise<TagsResult> {
  const { tracks, skipped } = selectTracks(deps.tracks, (id) => deps.backups.get(id) !== null, ids);
  const files: string[] = [];
  for (const [i, track] of tracks.entries()) {
    onProgress(i, tracks.length);
    const backup = deps.backups.get(track.id);
    if (!backup) {
      skipped.push({ trackId: track.id, title: track.title, code: 'NOT_FOUND', reason: `${track.title}: we never wrote its tags, there is nothing to restore.` });
      continue;
    }
    if (backup.path !== track.path) {
      skipped.push({ trackId: track.id, title: track.title, code: 'FILE_NOT_FOUND', reason: `${track.title}: its file is no longer ${backup.path}; nothing was changed.` });
      continue;
    }
    try {
      await deps.sidecar.run('tags_restore', { path: backup.path, previous: backup.previous }, { timeoutMs: TIMEOUT_MS });
      deps.backups.remove(track.id);
      files.push(backup.path);
    } catch (error) {
      skipped.push(skipFor(track.id, track.title, error));
    }
  }
  onProgress(tracks.length, tracks.length);
  return { written: files.length, files, skipped };
}

/** The file's own tags beside our analysis (a track imported with BPM/key shows both). */
export async function readTags(
  deps: TagDeps,
  id: string,
): Promise<TagsView> {
  const track = deps.tracks.get(id);
  if (!track) throw new SfaError('NOT_FOUND', `No track with id ${id}.`);
  const entry = djEntry(track, deps.analyses);
  const ours = { bpm: entry?.bpm ?? null, key: entry?.key ? standardKey(entry.key) : null };
  const written = deps.backups.get(id) !== null;
  const why = unfit(track, true, false);
  if (why) return { file: null, ours, written, error: why.reason };
  try {
    return { file: await deps.sidecar.run<FileTags>('tags_read', { path: track.path! }, { timeoutMs: TIMEOUT_MS }), ours, written, error: null };
  } catch (error) {
    return { file: null, ours, written, error: toErrorInfo(error).message };
  }
}
