import type { Track } from '../../../shared/domain';

export function formatDuration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

export function formatSampleRate(rate: number | null): string {
  if (!rate) return '—';
  const khz = rate / 1000;
  return `${Number.isInteger(khz) ? khz : khz.toFixed(1)} kHz`;
}

export const STATUS_LABELS: Record<Track['status'], string> = {
  pending: 'Waiting for download',
  ready: 'Ready',
  missing: 'File missing',
  failed: 'Failed',
};

export const SOURCE_LABELS: Record<Track['sourceKind'], string> = { file: 'File', spotify: 'Spotify', youtube: 'YouTube' };

export function formatBpm(bpm: number | null): string {
  // Two decimals, as DJ software shows them: the analysis is exact to ~0.05 BPM on steady tracks.
  return bpm === null || !Number.isFinite(bpm) ? '—' : bpm.toFixed(2);
}

/** "8A · A minor", or whichever half is known. */
export function formatKey(analysis: { key: string | null; camelot: string | null } | null): string {
  if (!analysis || (!analysis.key && !analysis.camelot)) return '—';
  return [analysis.camelot, analysis.key].filter(Boolean).join(' · ');
}
