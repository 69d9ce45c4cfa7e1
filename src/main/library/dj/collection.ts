import type { CollectionExport } from '../../../shared/dj';
import type { AnalysisRepository } from '../analyses';
import type { TrackRepository } from '../tracks';
import { AtomicTextFile } from './atomic-file';
import { djEntry, selectTracks, unfit, type DjEntry } from './entries';
import { m3uWriter } from './m3u';
import { rekordboxWriter } from './rekordbox';
import { traktorWriter } from './traktor';

/** A collection format written in three parts, so that 10,000 tracks stream through bounded memory. */
export interface CollectionWriter {
  begin(count: number): string;
  /** `index`: 1-based position in the collection. */
  entry(entry: DjEntry, index: number): string;
  end(count: number): Iterable<string>;
}

export type CollectionFormat = 'rekordbox' | 'traktor' | 'm3u';

export const PLAYLIST_NAME = 'Sound Forge Alchemy';


export interface CollectionDeps {
  tracks: TrackRepository;
  analyses: AnalysisRepository;
}

const WRITERS: Record<CollectionFormat, () => CollectionWriter> = {
  rekordbox: () => rekordboxWriter(PLAYLIST_NAME),
  traktor: () => traktorWriter(PLAYLIST_NAME),
  m3u: () => m3uWriter(),
};

const YIELD_EVERY = 200;

/**
 * Write a collection file of `ids` (or every analysed track): tracks without analysis (except in
 * an M3U playlist), without a file, or whose file is missing are skipped with the reason; the
 * rest is written to `out` atomically. `onProgress(done, total)` runs every YIELD_EVERY tracks.
 */
export async function exportCollection(
  deps: CollectionDeps,
  format: CollectionFormat,
  out: string,
  ids: readonly string[] | undefined,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<CollectionExport> {
  const bpmOf = deps.analyses.summaries();
  const analysed = (id: string) => typeof bpmOf.get(id)?.bpm === 'number';
  const selected = selectTracks(deps.tracks, analysed, ids);
  const skipped = [...selected.skipped];
  // First pass (one stat per track, no analysis parsed): the count the headers need.
  const fit = selected.tracks.filter((t) => {
    const why = unfit(t, analysed(t.id), format !== 'm3u');
    if (why) skipped.push(why);
    return !why;
  });
  const writer = WRITERS[format]();
  const file = new AtomicTextFile(out);
  try {
    file.write(writer.begin(fit.length));
    for (let i = 0; i < fit.length; i++) {
      const track = fit[i]!;
      const entry = djEntry(track, deps.analyses) ?? { track, path: track.path!, duration: track.duration, bpm: 0, key: null, energy: null, grid: null, markers: [] };
      file.write(writer.entry(entry, i + 1));
      if ((i + 1) % YIELD_EVERY === 0) {
        onProgress(i + 1, fit.length);
        await new Promise((done) => setImmediate(done));
      }
    }
    for (const piece of writer.end(fit.length)) file.write(piece);
    const path = file.commit();
    onProgress(fit.length, fit.length);
    return { file: path, written: fit.length, skipped };
  } catch (error) {
    file.abort();
    throw error;
  }
}
