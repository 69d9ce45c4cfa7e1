import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Page } from '@playwright/test';
import { wavHeader } from '../scripts/wav.mjs';

export function server(): { url: string; token: string; home: string } {
  const url = process.env.SFA_E2E_URL;
  const token = process.env.SFA_E2E_TOKEN;
  if (!url || !token) throw new Error('SFA_E2E_URL/SFA_E2E_TOKEN are not set: run through `npx playwright test` (global-setup starts sfa serve).');
  return { url, token, home: process.env.SFA_E2E_HOME ?? '' };
}

/**
 * A separate `sfa serve` on its own temp home, for specs that must not share the library of the
 * global server (which library.spec expects to start empty) or that need their own environment.
 */
export async function ownServer(env: Record<string, string> = {}, prefix = 'sfa-e2e-own-'): Promise<{ url: string; token: string; home: string; stop(): Promise<void> }> {
  const home = mkdtempSync(join(tmpdir(), prefix));
  const child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], {
    cwd: process.cwd(),
    stdio: ['ignore', 'pipe', 'pipe'],
    // dsp: the built-in separator, so separation needs no model download.
    env: { ...process.env, SFA_LOG: 'warn', SFA_DEFAULT_MODEL: process.env.SFA_DEFAULT_MODEL ?? 'dsp', ...env },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sfa serve printed nothing in 30 s. stderr:\n${stderr}`)), 30_000);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`sfa serve exited with ${code} before printing its URL. stderr:\n${stderr}`)));
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  return {
    url,
    token,
    home,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
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
  return Buffer.concat([wavHeader(sampleRate, data.length), data]);
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
