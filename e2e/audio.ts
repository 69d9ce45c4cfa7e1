import { wavHeader } from '../scripts/wav.mjs';

/** Generated test audio: a 16-bit PCM WAV with a kick on each beat over a chord (tempo and key to find). */
export function beatWav({ seconds = 8, bpm = 120, sampleRate = 22_050, chord = [220, 261.63, 329.63] } = {}): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(frames * 2);
  const beat = (60 / bpm) * sampleRate;
  for (let i = 0; i < frames; i++) {
    const t = i / sampleRate;
    let v = 0;
    for (const f of chord) v += Math.sin(2 * Math.PI * f * t) * 0.12;
    const sinceBeat = i % beat;
    if (sinceBeat < 0.12 * sampleRate) v += Math.sin(2 * Math.PI * 60 * (sinceBeat / sampleRate)) * Math.exp(-sinceBeat / (0.03 * sampleRate)) * 0.6;
    const hat = (i + beat / 2) % beat;
    if (hat < 0.02 * sampleRate) v += (Math.random() * 2 - 1) * 0.15 * Math.exp(-hat / (0.005 * sampleRate));
    data.writeInt16LE(Math.max(-32767, Math.min(32767, Math.round(v * 32767))), i * 2);
  }
  return Buffer.concat([wavHeader(sampleRate, data.length), data]);
}
