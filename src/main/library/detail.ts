import type { TrackDetail } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import type { AnalysisRepository } from './analyses';
import type { StemRepository } from './stems';
import type { TrackRepository } from './tracks';

/** A track with its current analysis and its newest stem set (library.get, media, exports). */
export function trackDetails(repos: { tracks: TrackRepository; analyses: AnalysisRepository; stems: StemRepository }): (id: string) => TrackDetail {
  return (id) => {
    const track = repos.tracks.get(id);
    if (!track) throw new SfaError('NOT_FOUND', `No track with id ${id}.`);
    const set = repos.stems.latestSet(id);
    return { ...track, analysis: repos.analyses.current(id)?.result ?? null, stems: set?.stems ?? null, stemModel: set?.model ?? null };
  };
}
