/**
 * A complete analysis result (the shape analyzer 1.1.0 returns, src/shared/analysis.ts) for tests
 * that store one by hand: `analysisResult({ tempo: { bpm: 124 } })` fills every field the test does
 * not name, and the result is checked against the schema so a fixture can never drift from it.
 */
import { checkAnalysisResult, type AnalysisResult } from '../shared/analysis';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object | null | undefined ? DeepPartial<NonNullable<T[K]>> | T[K] : T[K] };

export const SAMPLE_ANALYSIS: AnalysisResult = {
  analyzer_version: '1.1.0', source: 'mix', duration: 8, sample_rate: 22050, channels: 1, analysis_sample_rate: 22050,
  window: { start: 0, seconds: 8, truncated: false },
  tempo: { bpm: 100, confidence: 0.88, stable: true, curve: [], alternatives: [{ bpm: 200, score: 0.18 }, { bpm: 50, score: 0.01 }], source: 'mix' },
  key: { key: 'G major', tonic: 'G', mode: 'major', camelot: '9B', open_key: '2d', confidence: 0.6, tuning_cents: 0.7, score: 1.2, runner_up: { key: 'E minor', camelot: '9A', score: 0.8 }, source: 'mix' },
  energy: { rms_mean: 0.15963, zcr_mean: 0.02303, rms_windowed_mean: 0.0973, curve: [0.7, 0.7], loudness_lufs: -17.05, peak_db: -1.88, onset_rate: 5, level: 6 },
  spectral: { centroid_mean: 549.39, rolloff_mean: 1085.05, centroid_sounding_mean: 549.39, rolloff_sounding_mean: 1085.05, bandwidth_mean: 670.43, flatness_mean: 0.00085 },
} as AnalysisResult;

function merge(base: unknown, patch: unknown): unknown {
  if (patch === undefined) return base;
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch) || base === null || typeof base !== 'object' || Array.isArray(base)) return patch;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) out[k] = merge(out[k], v);
  return out;
}

export function analysisResult(patch: DeepPartial<AnalysisResult> = {}): AnalysisResult {
  const checked = checkAnalysisResult(merge(SAMPLE_ANALYSIS, patch));
  if (!checked.ok) throw new Error(`test analysis does not match the schema: ${checked.problems.join('; ')}`);
  return checked.result;
}
