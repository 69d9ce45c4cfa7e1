/**
 * The result of the sidecar's `analyze` op (python/sfa_sidecar/analyze.py), DESIGN.md 4.3.
 * Pure types mirroring the JSON; snake_case names are kept on purpose (the seed's columns map
 * from `tempo.bpm`, `key.key`, `energy.rms_mean`, `spectral.centroid_mean`,
 * `spectral.rolloff_mean`, `energy.zcr_mean`).
 */

/** Where a tempo or key came from: the mixed track, or the separated stems. */
export type AnalysisSource = 'mix' | 'stems';
export type KeyMode = 'major' | 'minor';

export interface TempoAlternative {
  bpm: number;
  /** The octave chooser's share for this candidate, 0..1. */
  score: number;
}

export interface TempoCandidate {
  bpm: number;
  /** 0..1: periodicity of the onsets times the winning octave's share. */
  confidence: number;
  /** Exactly two: bpm x 2, then bpm / 2. */
  alternatives: TempoAlternative[];
  /** Beat times in seconds from the start of the analysed window; [] when `beats: false`. */
  beats: number[];
}

export interface TempoResult extends TempoCandidate {
  source: AnalysisSource;
}

export interface KeyRunnerUp {
  key: string;
  camelot: string;
  /** Correlation with the key profile, -1..1. */
  score: number;
}

export interface KeyCandidate {
  /** e.g. "A minor", "Eb major", "F# minor". */
  key: string;
  /** Major keys: C Db D Eb E F F# G Ab A Bb B; minor keys: C C# D Eb E F F# G G# A Bb B. */
  tonic: string;
  mode: KeyMode;
  /** Camelot code: C major = "8B", A minor = "8A". */
  camelot: string;
  /** Open Key code: C major = "1d", A minor = "1m". */
  open_key: string;
  /** 0..1: profile fit times margin over the runner-up. */
  confidence: number;
  /** Correlation of the chosen key's profile, -1..1. */
  score: number;
  runner_up: KeyRunnerUp;
}

export interface KeyResult extends KeyCandidate {
  source: AnalysisSource;
}

export interface EnergyResult {
  rms_mean: number;
  zcr_mean: number;
  /** About one value per second of the analysed window, 0..1 (RMS dBFS mapped from -60..0). */
  curve: number[];
  /** Integrated loudness, ITU-R BS.1770-4; null when everything is gated out. */
  loudness_lufs: number | null;
  /** Sample peak of the 22.05 kHz decode, dBFS. */
  peak_db: number;
  /** Detected onsets per second. */
  onset_rate: number;
  /** DJ energy 1..10 (mapping documented in analysis/features.py energy_level). */
  level: number;
}

export interface SpectralResult {
  centroid_mean: number;
  rolloff_mean: number;
  bandwidth_mean: number;
  flatness_mean: number;
}

export interface AnalysisWindow {
  /** Seconds into the file where analysis started (non-zero only for files over maxSeconds). */
  start: number;
  seconds: number;
  /** True when the file is longer than maxSeconds (default 600) and only a window was analysed. */
  truncated: boolean;
}

export interface AnalysisCandidates {
  mix: { tempo: TempoCandidate; key: KeyCandidate };
  stems: {
    tempo: TempoCandidate | null;
    key: KeyCandidate | null;
    /** Per stem name, why it could not be used ("NOT_AUDIO: ..."). */
    errors?: Partial<Record<StemName, string>>;
  };
}

export type StemName = 'drums' | 'bass' | 'other' | 'vocals';

export interface AnalysisResult {
  analyzer_version: string;
  /** "stems" when the chosen tempo or key came from the stems. */
  source: AnalysisSource;
  /** Whole file, seconds. */
  duration: number;
  /** The file's own sample rate and channel count. */
  sample_rate: number;
  channels: number;
  /** Rate the analysis ran at (22050). */
  analysis_sample_rate: number;
  window: AnalysisWindow;
  tempo: TempoResult;
  key: KeyResult;
  energy: EnergyResult;
  spectral: SpectralResult;
  /** Only when stems were given. */
  candidates?: AnalysisCandidates;
  /** Only when stems were given, e.g. "tempo from the drums stem: confidence 0.92 vs 0.61 on the mix; ...". */
  choice_reason?: string;
}

export interface AnalyzeParams {
  path: string;
  stems?: Partial<Record<StemName, string>>;
  /** Longest stretch analysed, seconds (1..14400, default 600); longer files: a centred stretch of that length. */
  maxSeconds?: number;
  /** Track beats (default true). */
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
