import type { Peaks } from '../../shared/domain';

const PEAKS_CACHE_MAX = 256;

/** Waveform peaks computed once per (track, stem, resolution, file), the oldest dropped past 256. */
export class PeaksCache {
  private readonly entries = new Map<string, Peaks>();

  async get(trackId: string, which: string, points: number, path: string, compute: () => Promise<Peaks>): Promise<Peaks> {
    const key = `${trackId}/${which}/${points}/${path}`;
    const cached = this.entries.get(key);
    if (cached) return cached;
    const result = await compute();
    if (this.entries.size >= PEAKS_CACHE_MAX) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, result);
    return result;
  }

  /** Removed tracks' peaks go with them. */
  forgetTracks(ids: readonly string[]): void {
    for (const key of this.entries.keys()) if (ids.some((id) => key.startsWith(`${id}/`))) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
