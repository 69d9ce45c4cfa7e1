/** Types of scripts/wav.mjs (the WAV header of generated test clips). */
export function wavHeader(rate: number, bytes: number, channels?: number): Buffer;
