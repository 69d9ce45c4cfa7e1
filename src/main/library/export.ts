import type { AnalysisResult } from '../../shared/analysis';
import type { AnalysisRepository } from './analyses';
import type { TrackRepository } from './tracks';

export type AnalysisExportFormat = 'csv' | 'json';

/**
 * The seed's columns (energy = the seed's RMS, centroid, rolloff, zcr: DESIGN.md 4.3), then the
 * beat grid: `tempo_stable`, `meter`, `first_downbeat` (seconds from the start of the analysed
 * window, `window_start` into the file) and `downbeats`/`beats` as space-separated seconds.
 */
export const CSV_COLUMNS = [
  'id', 'title', 'artist', 'bpm', 'key', 'camelot', 'energy', 'loudness', 'centroid', 'rolloff', 'zcr', 'duration', 'source_path', 'analysis_source',
  'tempo_stable', 'meter', 'first_downbeat', 'window_start', 'downbeats', 'beats',
] as const;

/** RFC 4180 quoting, plus a leading quote for cells a spreadsheet would run as a formula. */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'number' ? (Number.isFinite(value) ? String(Math.round(value * 10_000) / 10_000) : '') : String(value);
  if (/^[=+\-@\t\r]/.test(text) && typeof value !== 'number') text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Seconds to milliseconds precision, space-separated: one cell that a spreadsheet keeps as text. */
const times = (list: number[] | undefined): string | null => (list && list.length ? list.map((t) => t.toFixed(3)).join(' ') : null);

/** Every analysed track (optionally only `ids`), as CSV (one row per track) or JSON (a list). */
export function exportAnalysis(tracks: TrackRepository, analyses: AnalysisRepository, format: AnalysisExportFormat, ids?: string[]): string {
  const current = analyses.currentByTrack();
  const wanted = ids ? new Set(ids) : null;
  const rows = tracks
    .list()
    .filter((t) => current.has(t.id) && (!wanted || wanted.has(t.id)))
    .sort((a, b) => a.title.localeCompare(b.title));
  if (format === 'json') {
    const list = rows.map((t) => ({ trackId: t.id, title: t.title, artist: t.artist, path: t.path ?? t.source, ...current.get(t.id)!.result }));
    return `${JSON.stringify(list, null, 2)}\n`;
  }
  const lines = [CSV_COLUMNS.join(',')];
  for (const t of rows) {
    const r: AnalysisResult = current.get(t.id)!.result;
    lines.push(
      [
        t.id, t.title, t.artist, r.tempo.bpm, r.key.key, r.key.camelot, r.energy.rms_mean, r.energy.loudness_lufs,
        r.spectral.centroid_mean, r.spectral.rolloff_mean, r.energy.zcr_mean, r.duration ?? t.duration, t.path ?? t.source, r.source,
        r.tempo.stable === undefined ? null : String(r.tempo.stable), r.grid?.meter, r.grid?.first_downbeat, r.window?.start,
        times(r.grid?.downbeats), times(r.grid?.beats),
      ]
        .map(csvCell)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
