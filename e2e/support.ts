import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from '@playwright/test';

export function server(): { url: string; token: string; home: string } {
  const url = process.env.SFA_E2E_URL;
  const token = process.env.SFA_E2E_TOKEN;
  if (!url || !token) throw new Error('SFA_E2E_URL/SFA_E2E_TOKEN are not set: run through `npx playwright test` (global-setup starts sfa serve).');
  return { url, token, home: process.env.SFA_E2E_HOME ?? '' };
}

export const SCREENSHOTS = join(process.cwd(), 'test-results', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** A mono 16-bit PCM WAV of a sine: the smallest real audio file ffmpeg reads. */
export function sineWav({ seconds = 1, sampleRate = 44_100, frequency = 440 } = {}): Buffer {
  const frames = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) {
    data.writeInt16LE(Math.round(Math.sin((2 * Math.PI * frequency * i) / sampleRate) * 0.5 * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // channels
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}

/**
 * Drops files on the window the way a user's drag does: dragenter, dragover, drop with a
 * DataTransfer holding them. `beforeDrop` runs while the drop target is visible.
 */
export async function dropFiles(page: Page, files: { name: string; bytes: Buffer; type?: string }[], beforeDrop?: () => Promise<void>): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type ?? 'audio/wav', data: f.bytes.toString('base64') }));
  const dataTransfer = await page.evaluateHandle((items) => {
    const dt = new DataTransfer();
    for (const item of items) {
      const bytes = Uint8Array.from(atob(item.data), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], item.name, { type: item.type }));
    }
    return dt;
  }, payload);
  await page.dispatchEvent('body', 'dragenter', { dataTransfer });
  await page.dispatchEvent('body', 'dragover', { dataTransfer });
  if (beforeDrop) await beforeDrop();
  await page.dispatchEvent('body', 'drop', { dataTransfer });
}
