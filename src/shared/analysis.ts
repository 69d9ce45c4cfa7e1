/**
 * The result of the sidecar's `analyze` op (python/sfa_sidecar/analyze.py), DESIGN.md 4.3: one
 * zod schema and the types inferred from it. The analysis worker validates every result against
 * it where it enters from Python; the library, the exports, the CLI and the renderer read these
 * types and nothing else. snake_case names are kept on purpose (the seed's columns map from
 * `tempo.bpm`, `key.key`, `energy.rms_mean`, `spectral.centroid_mean`, `spectral.rolloff_mean`,
 * `energy.zcr_mean`).
 *
 * Fields marked "since 1.1.0" are absent from results stored by analyzer 1.0.0 (the library keeps
 * old results until a re-analysis), so they are optional here and every reader handles their absence.
 */
import { z } from 'zod';

const num = z.number().finite();
const unit = num.min(0).max(1);

/** Where a tempo or key came from: the mixed track, or the separated stems. */
export const analysisSourceSchema = z.enum(['mix', 'stems']);
export type AnalysisSource = z.infer<typeof analysisSourceSchema>;
export type KeyMode = 'major' | 'minor';
export type StemName = 'drums' | 'bass' | 'other' | 'vocals';

const tempoAlternative = z.object({
  bpm: num,
  /** The octave chooser's share for this candidate, 0..1. */
  score: unit,
});

const tempoCurvePoint = z.object({ time: num, bpm: num });

const tempoCandidate = z.object({
  /** Two decimals; on steady material within ~0.05 BPM of the truth (bench/ANALYSIS.md). */
  bpm: num,
  /** 0..1: periodicity of the onsets times the winning octave's share (halved when not stable). */
  confidence: unit,
  /** Since 1.1.0: false when the local tempo drifts or changes (then read `curve`, not one number). */
  stable: z.boolean().optional(),
  /** Since 1.1.0: local tempo per ~16 s segment (hop 8 s); [] for tracks under ~32 s. */
  curve: z.array(tempoCurvePoint).optional(),
  /** Exactly two: bpm x 2, then bpm / 2. */
  alternatives: z.array(tempoAlternative),
  /** Analyzer 1.0.0 only: beat times (now in `grid.beats`). */
  beats: z.array(num).optional(),
});
export type TempoAlternative = z.infer<typeof tempoAlternative>;
export type TempoCandidate = z.infer<typeof tempoCandidate>;

const tempoResult = tempoCandidate.extend({ source: analysisSourceSchema });
export type TempoResult = z.infer<typeof tempoResult>;

/** Since 1.1.0. Times in seconds from the start of the analysed excerpt (`analysisWindow` below: its `start` is where these times begin in the file). */
const beatGrid = z.object({
  /** Every beat; on a steady track an exact grid first_beat + n x 60 / bpm. [] with `beats: false`. */
  beats: z.array(num),
  /** Bar starts (a subset of `beats`). */
  downbeats: z.array(num),
  /** "4/4" or "3/4"; null when beats were not tracked. */
  meter: z.enum(['4/4', '3/4']).nullable(),
  first_downbeat: num.nullable(),
  /** 0..1: how clearly the bar lines stand out (0: all beats alike, bars start on the first beat). */
  downbeat_confidence: unit,
});
export type BeatGrid = z.infer<typeof beatGrid>;

const keyRunnerUp = z.object({
  key: z.string(),
  camelot: z.string(),
  /** The runner-up's score on the same scale as the winner's. */
  score: num,
});

const keyCandidate = z.object({
  /** e.g. "A minor", "Eb major", "F# minor". */
  key: z.string(),
  /** Major keys: C Db D Eb E F F# G Ab A Bb B; minor keys: C C# D Eb E F F# G G# A Bb B. */
  tonic: z.string(),
  mode: z.enum(['major', 'minor']),
  /** Camelot code: C major = "8B", A minor = "8A". */
  camelot: z.string(),
  /** Open Key code: C major = "1d", A minor = "1m". */
  open_key: z.string(),
  /** 0..1, from the winner's margin over the runner-up. */
  confidence: unit,
  score: num,
  runner_up: keyRunnerUp,
  /** Since 1.1.0: the estimated A4 offset in cents (-50..50; +20 = A4 at 445 Hz); the key is read on that tuning. */
  tuning_cents: num.optional(),
});
export type KeyRunnerUp = z.infer<typeof keyRunnerUp>;
export type KeyCandidate = z.infer<typeof keyCandidate>;

const keyResult = keyCandidate.extend({ source: analysisSourceSchema });
export type KeyResult = z.infer<typeof keyResult>;

const energyResult = z.object({
  /** The seed's `energy`: mean of librosa.feature.rms(y) after librosa.load at its defaults. */
  rms_mean: num,
  /** The seed's `zero_crossing_rate` mean (librosa defaults). */
  zcr_mean: num,
  /** Since 1.1.0: RMS of the Hann-windowed frames (what 1.0.0 called `rms_mean`). */
  rms_windowed_mean: num.optional(),
  /** About one value per second of the analysed window, 0..1 (RMS dBFS mapped from -60..0). */
  curve: z.array(num),
  /** Integrated loudness, ITU-R BS.1770-4; null when everything is gated out. */
  loudness_lufs: num.nullable(),
  /** Sample peak of the 22.05 kHz decode, dBFS. */
  peak_db: num,
  /** Detected onsets per second. */
  onset_rate: num,
  /** DJ energy 1..10 (mapping documented in analysis/features.py energy_level). */
  level: num,
});
export type EnergyResult = z.infer<typeof energyResult>;

const spectralResult = z.object({
  /** The seed's columns: librosa's spectral_centroid / spectral_rolloff means (silent frames = 0 Hz). */
  centroid_mean: num,
  rolloff_mean: num,
  /** Since 1.1.0: the same over the frames that hold sound only. */
  centroid_sounding_mean: num.optional(),
  rolloff_sounding_mean: num.optional(),
  bandwidth_mean: num,
  flatness_mean: num,
});
export type SpectralResult = z.infer<typeof spectralResult>;

const analysisWindow = z.object({
  /** Seconds into the file where analysis started (non-zero only for files over maxSeconds). */
  start: num,
  seconds: num,
  /** True when the file is longer than maxSeconds (default 600) and only a window was analysed. */
  truncated: z.boolean(),
});
export type AnalysisWindow = z.infer<typeof analysisWindow>;

const stemName = z.enum(['drums', 'bass', 'other', 'vocals']);
const analysisCandidates = z.object({
  mix: z.object({ tempo: tempoCandidate, key: keyCandidate }),
  stems: z.object({
    tempo: tempoCandidate.nullable(),
    key: keyCandidate.nullable(),
    /** Per stem name, why it could not be used ("NOT_AUDIO: ..."). */
    errors: z.partialRecord(stemName, z.string()).optional(),
  }),
});
export type AnalysisCandidates = z.infer<typeof analysisCandidates>;

export const analysisResultSchema = z.object({
  analyzer_version: z.string(),
  /** "stems" when the chosen tempo or key came from the stems. */
  source: analysisSourceSchema,
  /** Whole file, seconds. */
  duration: num,
  /** The file's own sample rate and channel count. */
  sample_rate: num,
  channels: num,
  /** Rate the analysis ran at (22050). */
  analysis_sample_rate: num,
  // The contract's key for the analysed excerpt, as the sidecar writes it: a string key of this
  // object (quoted to say so), not a global; ESLint forbids the globals in src/shared.
  'window': analysisWindow,
  tempo: tempoResult,
  /** Since 1.1.0. */
  grid: beatGrid.optional(),
  key: keyResult,
  energy: energyResult,
  spectral: spectralResult,
  /** Only when stems were given. */
  candidates: analysisCandidates.optional(),
  /** Only when stems were given, e.g. "tempo from the drums stem: confidence 0.92 vs 0.61 on the mix; ...". */
  choice_reason: z.string().optional(),
});
export type AnalysisResult = z.infer<typeof analysisResultSchema>;

/** The result, or a list of what does not match (path: problem), for an INTERNAL error. */
export function checkAnalysisResult(value: unknown): { ok: true; result: AnalysisResult } | { ok: false; problems: string[] } {
  const parsed = analysisResultSchema.safeParse(value);
  if (parsed.success) return { ok: true, result: parsed.data };
  return { ok: false, problems: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) };
}

export interface AnalyzeParams {
  path: string;
  stems?: Partial<Record<StemName, string>>;
  /** Longest stretch analysed, seconds (1..14400, default 600); longer files: a centred stretch of that length. */
  maxSeconds?: number;
  /** Track beats and the grid (default true). */
  beats?: boolean;
  /** Only warm the JIT (same as the `analyze_warm` op). */
  warm?: boolean;
}

export interface PeaksParams {
  path: string;
  /** 1..100000, default 1000. */
  points?: number;
  /** One channel (the downmix) instead of one per channel (up to 2). */
  mixed?: boolean;
}

export interface PeaksResult {
  duration: number;
  channels: number;
  /** [channel][point] = [min, max], -1..1. */
  peaks: Array<Array<[number, number]>>;
}

export interface AnalyzeWarmResult {
  warm: true;
  seconds: number;
  analyzer_version: string;
}
