import type { KeyNotation } from '../../../shared/domain';

/** The key fields of an analysis result (DESIGN.md 4.3) that DJ software needs. */
export interface KeyFields {
  tonic: string;
  mode: 'major' | 'minor';
  camelot?: string;
  open_key?: string;
}

const PITCH: Record<string, number> = {
  C: 0, 'B#': 0, 'C#': 1, Db: 1, D: 2, 'D#': 3, Eb: 3, E: 4, Fb: 4, F: 5, 'E#': 5, 'F#': 6, Gb: 6, G: 7, 'G#': 8, Ab: 8, A: 9, 'A#': 10, Bb: 10, B: 11, Cb: 11,
};
// Camelot wheel position of each pitch class: majors (B), minors (A). C major = 8B, A minor = 8A.
const CAMELOT_MAJOR = [8, 3, 10, 5, 12, 7, 2, 9, 4, 11, 6, 1];
const CAMELOT_MINOR = [5, 12, 7, 2, 9, 4, 11, 6, 1, 8, 3, 10];

export function pitchClass(tonic: string): number | null {
  return PITCH[tonic] ?? null;
}

/** "Am", "F#m", "Eb": the ID3 TKEY form (tonic, `b`/`#`, `m` for minor), which rekordbox also uses. */
export function standardKey(k: KeyFields): string {
  return `${k.tonic}${k.mode === 'minor' ? 'm' : ''}`;
}

export function camelotKey(k: KeyFields): string | null {
  const pc = pitchClass(k.tonic);
  if (pc === null) return k.camelot ?? null;
  return `${(k.mode === 'minor' ? CAMELOT_MINOR : CAMELOT_MAJOR)[pc]}${k.mode === 'minor' ? 'A' : 'B'}`;
}

/** Open Key: Camelot shifted by seven (8B = 1d, 8A = 1m), `d` major, `m` minor. */
export function openKey(k: KeyFields): string | null {
  const camelot = camelotKey(k);
  if (!camelot) return k.open_key ?? null;
  const n = ((Number.parseInt(camelot, 10) + 4) % 12) + 1;
  return `${n}${k.mode === 'minor' ? 'm' : 'd'}`;
}

export function keyIn(notation: KeyNotation, k: KeyFields): string | null {
  if (notation === 'camelot') return camelotKey(k);
  if (notation === 'openkey') return openKey(k);
  return standardKey(k);
}

/** Traktor's MUSICAL_KEY value: 0..11 the major keys from C, 12..23 the minor keys from C minor. */
export function traktorKeyValue(k: KeyFields): number | null {
  const pc = pitchClass(k.tonic);
  return pc === null ? null : pc + (k.mode === 'minor' ? 12 : 0);
}
