/**
 * The `sfa` command line as scripts use it: the built CLI (`npm run build`, done by `npm test`)
 * spawned as a process against a temporary home, checking stdout JSON and exit codes.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir, writeSine } from '../test/fixtures';

const run = promisify(execFile);
const cli = join(repoRoot, 'bin', 'sfa.mjs');
let dir: string;
let cleanup: () => void;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function sfa(...args: string[]): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, '--home', join(dir, 'home'), ...args], { timeout: 180_000, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

beforeAll(() => {
  if (!existsSync(join(repoRoot, 'out', 'main', 'cli.js'))) throw new Error('The CLI is not built: run `npm run build` (npm test does it first).');
  ({ dir, cleanup } = tempDir('sfa-cli-'));
});
afterAll(() => cleanup());

describe('sfa CLI', () => {
  it('prints help with exit 0, and rejects unknown commands and options with exit 2', async () => {
    const help = await sfa('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('usage: sfa');
    for (const name of ['doctor', 'add', 'tracks', 'analyze', 'separate', 'run', 'jobs', 'export', 'serve']) expect(help.stdout).toContain(name);
    expect((await sfa('frobnicate')).code).toBe(2);
    const badOption = await sfa('tracks', '--nope', '--json');
    expect(badOption.code).toBe(2);
    expect(JSON.parse(badOption.stdout)).toMatchObject({ error: { code: 'USAGE' } });
  });

  it('add: imports files and folders, reports a non-audio file with exit 2, and imports the rest', async () => {
    writeSine(join(dir, 'a.wav'), 1.5);
    mkdirSync(join(dir, 'folder', 'deeper'), { recursive: true });
    writeSine(join(dir, 'folder', 'b.wav'), 2, { sampleRate: 48_000 });
    writeSine(join(dir, 'folder', 'deeper', "it's -- a 'song'.wav"), 1, { freq: 330 });
    writeFileSync(join(dir, 'x.mp3'), 'plain text pretending to be an mp3');
    const r = await sfa('add', join(dir, 'a.wav'), join(dir, 'folder'), join(dir, 'x.mp3'), '--no-pipeline', '--json');
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { tracks: { id: string; title: string }[]; errors: { input: string; code: string; message: string }[] };
    expect(out.tracks.map((t) => t.title).sort()).toEqual(['a', 'b', "it's -- a 'song'"]);
    expect(out.errors).toEqual([{ input: join(dir, 'x.mp3'), code: 'NOT_AUDIO', message: expect.stringMatching(/x\.mp3 is not an audio file/) }]);

    const list = await sfa('tracks', '--json');
    expect(list.code).toBe(0);
    const { tracks } = JSON.parse(list.stdout) as { tracks: { title: string; duration: number; sampleRate: number; source: string; path: string; status: string }[] };
    const b = tracks.find((t) => t.title === 'b')!;
    expect(b).toMatchObject({ sampleRate: 48_000, source: 'file', status: 'ready', path: join(dir, 'folder', 'b.wav') });
    expect(b.duration).toBeCloseTo(2, 1);
  });

  it('add: an invalid link is an error entry with exit 2; a valid one is enqueued for download', async () => {
    const r = await sfa('add', 'https://evil.example/x', 'https://youtu.be/dQw4w9WgXcQ', '--json');
    expect(r.code).toBe(2);
    const out = JSON.parse(r.stdout) as { tracks: { source: string }[]; errors: { code: string }[] };
    expect(out.errors).toEqual([expect.objectContaining({ code: 'INVALID_LINK' })]);
    expect(out.tracks).toEqual([expect.objectContaining({ source: 'https://www.youtube.com/watch?v=dQw4w9WgXcQ' })]);
    const jobs = JSON.parse((await sfa('jobs', '--json')).stdout) as { jobs: { worker: string; state: string; queue: string }[] };
    expect(jobs.jobs.map((j) => j.worker).sort()).toEqual(['analyze', 'download', 'separate']);
    expect(jobs.jobs.find((j) => j.worker === 'download')).toMatchObject({ queue: 'download', state: 'available' });
  });

  it('jobs: rejects an unknown state with exit 2', async () => {
    expect((await sfa('jobs', '--state', 'exploded')).code).toBe(2);
  });

  it('jobs (for people): queue counts and the job table, through queues.list and jobs.failures', async () => {
    const r = await sfa('jobs');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^queue\s+limit\s+paused\s+scheduled/m);
    expect(r.stdout).toMatch(/^download\s+3\s/m);
  });

  it('run --until-idle: works what is due now through requests, and reports counts', async () => {
    const home = join(dir, 'idle-home');
    const { stdout } = await run(process.execPath, [cli, '--home', home, 'run', '--until-idle', '--json'], { timeout: 60_000 });
    expect(JSON.parse(stdout)).toEqual({ ran: { completed: 0, retryable: 0, discarded: 0, cancelled: 0 }, remaining: expect.objectContaining({ available: 0, executing: 0 }) });
  });

  it('separate: a model name the contract rejects (leading - or .) is exit 2 before any job', async () => {
    writeSine(join(dir, 'sep.wav'), 1);
    for (const model of ['-x', '.hidden']) {
      const r = await sfa('separate', join(dir, 'sep.wav'), `--model=${model}`, '--json');
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringContaining('model') } });
    }
  });

  it('export analysis: writes a header-only CSV when nothing is analysed yet, atomically to --out', async () => {
    const out = join(dir, 'analysis.csv');
    const r = await sfa('export', 'analysis', '--format', 'csv', '--out', out);
    expect(r.code).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});
