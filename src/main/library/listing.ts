import { existsSync } from 'node:fs';
import type { TrackListItem } from '../../shared/domain';
import type { AnalysisRepository } from './analyses';
import type { StemRepository } from './stems';
import type { TrackRepository } from './tracks';

/**
 * The library table: every track with its analysis summary and stem count. A ready track whose
 * file was moved or deleted outside the app says `missing` (one stat per distinct path).
 */
export function listTracks(repos: { tracks: TrackRepository; analyses: AnalysisRepository; stems: StemRepository }): TrackListItem[] {
  const summaries = repos.analyses.summaries();
  const stemSets = repos.stems.latestSetByTrack();
  const exists = new Map<string, boolean>();
  const onDisk = (path: string) => exists.get(path) ?? (exists.set(path, existsSync(path)), exists.get(path)!);
  return repos.tracks.list().map((t) => {
    const status = t.status === 'ready' && t.path && !onDisk(t.path) ? 'missing' : t.status;
    return { ...t, status, analysis: summaries.get(t.id) ?? null, stemCount: Object.keys(stemSets.get(t.id)?.stems ?? {}).length };
  });
}
