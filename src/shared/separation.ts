/**
 * Separation settings and their defaults, one definition for the engine (pipeline, workers, the
 * stored settings' starting values), the CLI (`sfa separate`) and the UI (settings, model menus).
 */

export const DEVICES = ['auto', 'cpu', 'cuda', 'mps'] as const;
export type Device = (typeof DEVICES)[number];

export const STEM_FORMATS = ['wav', 'flac', 'mp3'] as const;
export type StemFormat = (typeof STEM_FORMATS)[number];

/** What a separation uses when neither the request nor the stored settings say otherwise. */
export const SEPARATION_DEFAULTS = {
  model: 'htdemucs',
  device: 'auto' as Device,
  format: 'wav' as StemFormat,
  /** Demucs `--shifts`: random time shifts averaged (1 = none). */
  shifts: 1,
  /** Demucs `--overlap` between chunks, 0..1. */
  overlap: 0.25,
} as const;

/** Limits `sfa separate` and the contract accept. */
export const SHIFTS_MAX = 20;
