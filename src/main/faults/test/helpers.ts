import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { repoRoot } from '../../../test/fixtures';

export interface Child {
  proc: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  waitLine(re: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node script args`, with the app root set (a bundle in a temp folder cannot find it). */
export function spawnNode(script: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, [script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SFA_APP_ROOT: repoRoot, ...env },
  });
  let out = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => (out += c));
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal })),
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitLine(re, timeoutMs = 60_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const line = out.split('\n').find((l) => re.test(l));
        if (line) return line;
        if (done) throw new Error(`child exited before ${re}; stderr: ${err.slice(-2000)}`);
        if (Date.now() > until) throw new Error(`no line ${re} in ${timeoutMs} ms; stderr: ${err.slice(-2000)}`);
        await sleep(50);
      }
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A small seeded PRNG (mulberry32): fault runs are reproducible from the printed seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Whether `path` is a complete PCM WAV: RIFF/WAVE, a fmt chunk, and a data chunk whose declared
 * size is exactly what the file holds (a half-written file fails this) and a whole number of frames.
 */
export function isCompleteWav(path: string): boolean {
  const size = statSync(path).size;
  if (size < 44) return false;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(Math.min(size, 4096));
    readSync(fd, head, 0, head.length, 0);
    if (head.toString('ascii', 0, 4) !== 'RIFF' || head.toString('ascii', 8, 12) !== 'WAVE') return false;
    if (head.readUInt32LE(4) + 8 !== size) return false;
    let pos = 12;
    let blockAlign = 0;
    while (pos + 8 <= head.length) {
      const id = head.toString('ascii', pos, pos + 4);
      const len = head.readUInt32LE(pos + 4);
      if (id === 'fmt ') blockAlign = head.readUInt16LE(pos + 20);
      if (id === 'data') return blockAlign > 0 && pos + 8 + len === size && len % blockAlign === 0 && len > 0;
      pos += 8 + len + (len % 2);
    }
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Run-wide figures the fault files add to; each file prints its FAULTS line. */
export interface Figures {
  cases: number;
  crashesSurvived: number;
  jobsLost: number;
  duplicates: number;
}
