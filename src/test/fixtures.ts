import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { wavHeader } from '../../scripts/wav.mjs';

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'sfa-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A 16-bit PCM WAV of a sine: real audio any decoder accepts, made without any tool. */
export function sineWav(seconds: number, options: { sampleRate?: number; channels?: number; freq?: number } = {}): Buffer {
  const sampleRate = options.sampleRate ?? 44_100;
  const channels = options.channels ?? 2;
  const freq = options.freq ?? 440;
  const frames = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(frames * channels * 2);
  for (let i = 0; i < frames; i++) {
    const v = Math.round(Math.sin((2 * Math.PI * freq * i) / sampleRate) * 0.3 * 32767);
    for (let c = 0; c < channels; c++) data.writeInt16LE(v, (i * channels + c) * 2);
  }
  return Buffer.concat([wavHeader(sampleRate, data.length, channels), data]);
}

export function writeSine(path: string, seconds: number, options?: Parameters<typeof sineWav>[1]): string {
  writeFileSync(path, sineWav(seconds, options));
  return path;
}

export const repoRoot = join(__dirname, '..', '..');

/** Whether a process with this id exists (signal 0 checks without sending anything). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
