/**
 * Fault tests: the environment around the engine fails. The Python environment is missing or
 * broken; the stems folder is full or read-only; the database or the data folder is locked by
 * another process. Each gives a typed error that says what to do, never a hang or a stack trace.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { repoRoot, tempDir, writeSine } from '../../test/fixtures';
import { type EngineOptions } from '../engine';
import { createEngineForTests, type TestEngine } from '../test/engine';
import { silentLogger } from '../log';
import { sleep } from './test/helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
let cases = 0;
afterAll(() => console.log(`FAULTS file=environment cases=${cases} jobs_lost=0 duplicates=0`));

function home(prefix: string): { dir: string; home: string } {
  const t = tempDir(prefix);
  cleanups.push(t.cleanup);
  return { dir: t.dir, home: join(t.dir, 'home') };
}

async function engineAt(homeDir: string, options: Partial<EngineOptions> = {}): Promise<TestEngine> {
  const engine = await createEngineForTests({ home: homeDir, host: 'cli', logger: silentLogger, separation: { model: 'dsp' }, ...options });
  cleanups.push(() => engine.close());
  return engine;
}

/** Run `fn` with SFA_PYTHON set (the engine reads it when it is created). */
async function withPython<T>(python: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.SFA_PYTHON;
  process.env.SFA_PYTHON = python;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.SFA_PYTHON;
    else process.env.SFA_PYTHON = before;
  }
}

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at |Traceback|\.ts:\d+/);

describe('the Python environment missing or broken', () => {
  const brokenPythons = (dir: string) => {
    const exitsAtOnce = join(dir, 'python-exits');
    writeFileSync(exitsAtOnce, '#!/bin/sh\necho "ModuleNotFoundError: No module named numpy" >&2\nexit 1\n', { mode: 0o755 });
    const notExecutable = join(dir, 'python-noexec');
    writeFileSync(notExecutable, 'not a program', { mode: 0o644 });
    return { missing: '/nonexistent/python', exitsAtOnce, notExecutable };
  };

  it('library.add, system.doctor and jobs fail with SIDECAR_UNAVAILABLE and the fix, fast', async () => {
    const { dir, home: h } = home('sfa-fault-py-');
    const file = writeSine(join(dir, 'song.wav'), 1);
    const pythons = brokenPythons(dir);
    for (const [kind, python] of Object.entries(pythons)) {
      const started = Date.now();
      await withPython(python, async () => {
        const engine = await engineAt(join(h, kind), { runQueues: true });
        // library.add: the file becomes an error entry that says how to repair the environment.
        const reply = await engine.api.handle('library.add', { inputs: [file] });
        expect(reply).toMatchObject({ ok: true, result: { tracks: [], errors: [{ code: 'SIDECAR_UNAVAILABLE' }] } });
        const message = (reply as { result: { errors: { message: string }[] } }).result.errors[0]!.message;
        expect(message, kind).toMatch(/npm (install|run setup)/);
        noStack(message);
        // doctor: the python check fails with the same advice (what `sfa doctor --json` prints).
        const doctor = await engine.api.handle('system.doctor', {});
        const python = (doctor as { result: { checks: { name: string; ok: boolean; detail?: string; path?: string }[] } }).result.checks.find((c) => c.name === 'python');
        expect(python).toMatchObject({ ok: false, path: pythons[kind as keyof typeof pythons] });
        expect(python!.detail, kind).toMatch(/npm (install|run setup)/);
        // jobs: a track already in the library (imported while Python worked) is discarded with the code, once.
        const track = engine.tracks.insert({
          title: 'song', artist: null, album: null, sourceKind: 'file', source: file, path: file, contentHash: `h-${kind}`,
          duration: 1, sampleRate: 44100, channels: 2, codec: 'pcm_s16le', status: 'ready',
        });
        const [jobId] = await engine.enqueuePipeline([track.id], ['analyze']);
        const job = await engine.scheduler.waitFor(jobId!, { timeoutMs: 20_000 });
        expect(job).toMatchObject({ state: 'discarded', attempt: 1 });
        expect(job.errors.at(-1)).toMatchObject({ code: 'SIDECAR_UNAVAILABLE' });
        noStack(job.errors.at(-1)!.error);
      });
      expect(Date.now() - started, `${kind} took too long`).toBeLessThan(15_000);
      cases++;
    }
  }, 90_000);
});

describe('the Python environment missing, through the built CLI', () => {
  it('`sfa doctor --json` fails the python check with the fix; `sfa add --json` reports SIDECAR_UNAVAILABLE', async (ctx) => {
    const cli = join(repoRoot, 'out', 'main', 'cli.js');
    if (!existsSync(cli)) return ctx.skip('the CLI is not built (npm test builds it first)');
    const { dir, home: h } = home('sfa-fault-pycli-');
    const file = writeSine(join(dir, 'song.wav'), 1);
    const sfa = (...args: string[]) =>
      spawnSync(process.execPath, [join(repoRoot, 'bin', 'sfa.mjs'), '--home', h, ...args], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, SFA_PYTHON: '/nonexistent/python' },
      });
    const doctor = sfa('doctor', '--json');
    expect(doctor.status).toBe(1);
    const report = JSON.parse(doctor.stdout) as { checks: { name: string; ok: boolean; detail?: string; path?: string }[] };
    expect(report.checks.find((c) => c.name === 'python')).toMatchObject({ ok: false, path: '/nonexistent/python', detail: expect.stringMatching(/npm install/) });
    const add = sfa('add', file, '--json');
    const out = JSON.parse(add.stdout) as { tracks: unknown[]; errors: { code: string; message: string }[] };
    expect(out.tracks).toEqual([]);
    expect(out.errors).toEqual([expect.objectContaining({ code: 'SIDECAR_UNAVAILABLE', message: expect.stringMatching(/npm (install|run setup)/) })]);
    noStack(add.stderr);
    cases++;
  }, 90_000);
});

/** A small tmpfs (or, failing that, a read-only folder) as the home's media/stems. */
function limitedStems(stems: string, mode: 'full' | 'readonly'): { ran: string; undo: () => void } | null {
  mkdirSync(stems, { recursive: true });
  const opts = mode === 'full' ? 'size=2m' : 'ro,size=1m';
  const mount = spawnSyncQuiet('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', stems]);
  if (mount === 0) return { ran: `tmpfs (${opts})`, undo: () => void spawnSyncQuiet('umount', ['-l', stems]) };
  if (process.getuid?.() !== 0) {
    chmodSync(stems, 0o555);
    return { ran: 'read-only folder (chmod 555)', undo: () => chmodSync(stems, 0o755) };
  }
  return null; // root without mount rights: chmod would not stop root
}

function spawnSyncQuiet(cmd: string, args: string[]): number | null {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status;
}

describe('the stems folder full or read-only', () => {
  for (const mode of ['full', 'readonly'] as const) {
    it(`a separation fails with a clear ${mode === 'full' ? 'DISK_FULL' : 'permission'} error, nothing partial registered, database intact`, async (ctx) => {
      const { dir, home: h } = home(`sfa-fault-disk-${mode}-`);
      const limited = limitedStems(join(h, 'media', 'stems'), mode);
      if (!limited) return ctx.skip('cannot mount a tmpfs and chmod does not stop root here');
      cleanups.push(limited.undo);
      console.info(`disk fault (${mode}) ran with: ${limited.ran}`);
      const engine = await engineAt(h, { runQueues: true, queues: { processing: 1 } });
      // 10 s of stereo: four stems of ~1.7 MB each do not fit in 2 MB.
      const file = writeSine(join(dir, 'long.wav'), 10, { freq: 330 });
      await engine.api.handle('library.add', { inputs: [file], steps: ['separate'] });
      const track = engine.tracks.list()[0]!;
      const [sep] = engine.scheduler.listJobs({ trackId: track.id });
      const job = await engine.scheduler.waitFor(sep!.id, { timeoutMs: 90_000 });
      expect(job.state).toBe('discarded');
      const last = job.errors.at(-1)!;
      if (mode === 'full' || limited.ran.startsWith('tmpfs (size')) {
        expect(last.code).toBe('DISK_FULL');
        expect(last.error).toMatch(/disk is full/);
      } else {
        expect(last.code).toBe('PERMISSION_DENIED');
        expect(last.error).toMatch(/permission denied|make the folder writable/i);
      }
      expect(last.error).toContain(join(h, 'media', 'stems'));
      noStack(last.error);
      expect(engine.stems.forTrack(track.id)).toEqual([]);
      const trackDir = join(h, 'media', 'stems', track.id);
      expect(existsSync(trackDir) ? readdirSync(trackDir) : []).toEqual([]);
      expect(engine.db.pragma('integrity_check', { simple: true })).toBe('ok');
      // The library still works: the track is there, another request succeeds.
      expect(await engine.api.handle('library.list', {})).toMatchObject({ ok: true, result: { tracks: [{ id: track.id }] } });
      cases++;
    }, 120_000);
  }
});

/** A child process holding a lock: `home` (the data folder's lock) or `database` (an exclusive SQLite lock). */
async function holdLock(kind: 'home' | 'database', homeDir: string): Promise<ChildProcess> {
  // The data folder's lock exactly as HomeLock takes it; or another program's exclusive lock on the database.
  const script =
    kind === 'home'
      ? `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(join(homeDir, '.lock'))}, { timeout: 0 });
         db.pragma('locking_mode = EXCLUSIVE'); db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT)'); db.exec('BEGIN EXCLUSIVE');
         db.prepare('INSERT INTO holder VALUES (?, ?)').run(process.pid, 'now'); console.log('locked'); setInterval(() => {}, 1000);`
      : `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(join(homeDir, 'library.sqlite'))});
         db.pragma('locking_mode = EXCLUSIVE'); db.exec('BEGIN EXCLUSIVE'); db.exec('CREATE TABLE IF NOT EXISTS other_app (x)');
         console.log('locked'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited ${code}`)));
  });
  return child;
}

describe('the database or the data folder locked by another process', () => {
  it('gives HOME_LOCKED at once when another process works the queues', async () => {
    const { home: h } = home('sfa-fault-lock-');
    (await engineAt(h)).close(); // a library exists
    await holdLock('home', h);
    const started = Date.now();
    await expect(createEngineForTests({ home: h, host: 'cli', logger: silentLogger, runQueues: true })).rejects.toMatchObject({
      code: 'HOME_LOCKED',
      message: expect.stringContaining(h),
    });
    expect(Date.now() - started).toBeLessThan(2000);
    cases++;
  });

  it('gives DATABASE_LOCKED naming the folder, instead of a hang, when another program locks library.sqlite', async () => {
    const { home: h } = home('sfa-fault-dblock-');
    const first = await engineAt(h);
    await first.close();
    const holder = await holdLock('database', h);
    for (const runQueues of [false, true]) {
      const started = Date.now();
      await expect(createEngineForTests({ home: h, host: 'cli', logger: silentLogger, runQueues })).rejects.toMatchObject({
        code: 'DATABASE_LOCKED',
        message: expect.stringContaining(h),
      });
      expect(Date.now() - started).toBeLessThan(8000);
    }
    // Once the other program lets go, the library opens and is intact; the home lock was released.
    holder.kill('SIGKILL');
    await sleep(100);
    const engine = await engineAt(h, { runQueues: true });
    expect(engine.db.pragma('integrity_check', { simple: true })).toBe('ok');
    cases++;
  }, 30_000);
});
