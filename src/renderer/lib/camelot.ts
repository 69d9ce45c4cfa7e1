/** Camelot wheel arithmetic: which keys mix with which (same, ±1 same letter, relative). */
export interface Camelot {
  number: number;
  letter: 'A' | 'B';
}

export function parseCamelot(text: string | null | undefined): Camelot | null {
  const m = /^\s*(\d{1,2})\s*([ABab])\s*$/.exec(text ?? '');
  if (!m) return null;
  const number = Number(m[1]);
  if (number < 1 || number > 12) return null;
  return { number, letter: m[2]!.toUpperCase() as 'A' | 'B' };
}

const wrap = (n: number) => ((((n - 1) % 12) + 12) % 12) + 1;

/** The keys that mix harmonically with `camelot`: itself, ±1 on the wheel, and its relative. */
export function compatibleKeys(camelot: string | null | undefined): string[] {
  const c = parseCamelot(camelot);
  if (!c) return [];
  const other = c.letter === 'A' ? 'B' : 'A';
  return [`${c.number}${c.letter}`, `${wrap(c.number - 1)}${c.letter}`, `${wrap(c.number + 1)}${c.letter}`, `${c.number}${other}`];
}

export function mixesWith(a: string | null | undefined, b: string | null | undefined): boolean {
  const cb = parseCamelot(b);
  return !!cb && compatibleKeys(a).includes(`${cb.number}${cb.letter}`);
}

/** All 24 Camelot keys in wheel order (1A, 1B, 2A ...), for the key filter. */
export const CAMELOT_KEYS: readonly string[] = Array.from({ length: 24 }, (_, i) => `${Math.floor(i / 2) + 1}${i % 2 ? 'B' : 'A'}`);

/** Musical key names per Camelot code (minor = A, major = B). */
export const CAMELOT_NAMES: Record<string, string> = {
  '1A': 'A♭ minor', '1B': 'B major', '2A': 'E♭ minor', '2B': 'F♯ major', '3A': 'B♭ minor', '3B': 'D♭ major',
  '4A': 'F minor', '4B': 'A♭ major', '5A': 'C minor', '5B': 'E♭ major', '6A': 'G minor', '6B': 'B♭ major',
  '7A': 'D minor', '7B': 'F major', '8A': 'A minor', '8B': 'C major', '9A': 'E minor', '9B': 'G major',
  '10A': 'B minor', '10B': 'D major', '11A': 'F♯ minor', '11B': 'A major', '12A': 'D♭ minor', '12B': 'E major',
};
