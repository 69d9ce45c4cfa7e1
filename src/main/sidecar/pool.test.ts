import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { processAlive, tempDir, writeSine } from '../../test/fixtures';
import { pythonEnvironment } from './environment';
import { bundledFfmpeg } from './ffmpeg';
import { recordingFfmpeg } from './test/recording-ffmpeg';
import { SidecarPool } from './pool';
import { SidecarProcess } from './process';
import { PROTOCOL_VERSION } from './protocol';

const pools: SidecarPool[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

function pool(size = 1, idleMs?: number) {
  const p = new SidecarPool('test', size, { env: pythonEnvironment(), args: ['--no-devices'] }, { idleMs });
  pools.push(p);
  return p;
}

describe('sidecar process and pool (real Python)', () => {
  it('says hello with versions and answers requests', async () => {
    const p = pool();
    const hello = await p.warm();
    expect(hello.protocol).toBe(PROTOCOL_VERSION);
    expect(hello.versions.python).toMatch(/^3\.11/);
    expect(hello.ops).toContain('probe');
    const pong = await p.run<{ pong: boolean; pid: number }>('ping', {});
    expect(pong.pong).toBe(true);
    expect(pong.pid).toBe(hello.pid);
  });

  it('turns a sidecar error into a typed error with its code', async () => {
    const p = pool();
    await expect(p.run('probe', { path: '/definitely/missing.wav' })).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    await expect(p.run('no-such-op', {})).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('fails the in-flight request when the process dies and starts a fresh one for the next', async () => {
    const p = pool();
    const hello = await p.warm();
    // kill the process from outside while it is idle, then again while a request waits on it
    process.kill(hello.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const pong = await p.run<{ pid: number }>('ping', {});
    expect(pong.pid).not.toBe(hello.pid);
    const inFlight = p.run('ping', { busySeconds: 30 });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pong.pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'SIDECAR_CRASHED' });
    expect((await p.run<{ pid: number }>('ping', {})).pid).not.toBe(pong.pid);
  });

  it('reports a missing Python environment clearly', () => {
    expect(() => new SidecarProcess({ env: { python: '/nope/python', packageRoot: '/nope', binDir: '/nope' } })).toThrow(
      expect.objectContaining({ code: 'SIDECAR_UNAVAILABLE' }),
    );
  });

  it('cancels a request through an AbortSignal', async () => {
    const p = pool();
    await p.warm();
    const controller = new AbortController();
    const progress: number[] = [];
    const pending = p.run('ping', { busySeconds: 30 }, { signal: controller.signal, onProgress: (fraction) => progress.push(fraction) });
    setTimeout(() => controller.abort(), 200);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(progress.length).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    // the same process stops cooperatively and serves the next request
    const hello = await p.warm();
    expect((await p.run<{ pid: number }>('ping', {})).pid).toBe(hello.pid);
  });

  it('kills a sidecar that ignores a cancel, within the grace period, and replaces it', async () => {
    const p = pool();
    const hello = await p.warm();
    const controller = new AbortController();
    const started = Date.now();
    const pending = p.run('ping', { busySeconds: 30, ignoreCancel: true }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    const next = await p.run<{ pid: number }>('ping', {});
    expect(next.pid).not.toBe(hello.pid);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('times out a request that takes too long and kills its process', async () => {
    const p = pool();
    await p.warm();
    await expect(p.run('ping', { busySeconds: 30, ignoreCancel: true }, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'SIDECAR_TIMEOUT' });
    expect((await p.run<{ pong: boolean }>('ping', {})).pong).toBe(true);
  });

  it('hands a queued caller the error when the replacement process cannot start (never leaves it waiting)', async () => {
    const env = { ...pythonEnvironment() };
    const p = new SidecarPool('test', 1, { env, args: ['--no-devices'] });
    pools.push(p);
    const hello = await p.warm();
    const busy = p.run('ping', { busySeconds: 30 });
    const queued = p.run('ping', {});
    await new Promise((r) => setTimeout(r, 300));
    env.python = '/nope/python'; // the environment disappears (a repair in progress, a deleted venv)
    process.kill(hello.pid, 'SIGKILL');
    const within = <T,>(promise: Promise<T>) =>
      Promise.race([promise, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('still waiting after 5 s')), 5000))]);
    await expect(within(busy)).rejects.toMatchObject({ code: 'SIDECAR_CRASHED' });
    await expect(within(queued)).rejects.toMatchObject({ code: 'SIDECAR_UNAVAILABLE' });
  });

  it('applies changed environment variables without a restart: idle processes at once, busy ones after their request', async () => {
    if (process.platform === 'win32') return console.log('skipped: the recording ffmpeg stand-in is a POSIX shell script');
    const t = tempDir();
    cleanups.push(t.cleanup);
    const wav = writeSine(join(t.dir, 'a.wav'), 0.5);
    const custom = recordingFfmpeg(t.dir, await bundledFfmpeg());
    const p = pool();
    await p.run('probe', { path: wav });
    const busy = p.run<{ pid: number }>('ping', { busySeconds: 0.5 });
    await new Promise((r) => setTimeout(r, 100));
    p.updateVars({ SFA_FFMPEG: custom.path });
    const busyPid = (await busy).pid;
    expect(custom.uses()).toBe(0);
    expect(await p.run('probe', { path: wav })).toMatchObject({ sampleRate: 44_100 });
    expect(custom.uses()).toBe(1);
    expect((await p.run<{ pid: number }>('ping', {})).pid).not.toBe(busyPid);
    expect(p.processes).toBe(1);
    p.updateVars({ SFA_FFMPEG: undefined });
    await p.run('probe', { path: wav });
    expect(custom.uses()).toBe(1);
  });

  it('stops a process left idle for idleMs, keeps one that is used again in time, and starts a fresh one after', async () => {
    const p = pool(1, 1500);
    const first = await p.run<{ pid: number }>('ping', {});
    await new Promise((r) => setTimeout(r, 700));
    // used again within the window: the same process, and its idle time starts over
    expect((await p.run<{ pid: number }>('ping', {})).pid).toBe(first.pid);
    await new Promise((r) => setTimeout(r, 1000));
    expect(p.processes).toBe(1);
    await expect.poll(() => p.processes, { timeout: 5000, interval: 50 }).toBe(0);
    await expect.poll(() => processAlive(first.pid), { timeout: 5000, interval: 50 }).toBe(false);
    const next = await p.run<{ pid: number }>('ping', {});
    expect(next.pid).not.toBe(first.pid);
    expect(p.processes).toBe(1);
  });

  it('sends the next caller to a warm-up in flight instead of starting a cold process beside it', async () => {
    const p = pool(2);
    const warming = p.warmUp<{ pid: number }>('ping', { busySeconds: 1.5 });
    await expect.poll(() => p.processes, { timeout: 10_000, interval: 20 }).toBe(1);
    const started = Date.now();
    // the first caller waits for the warmed process; a second one (a long job), with no warm-up left for it, starts its own
    const [first, second] = await Promise.all([p.run<{ pid: number }>('ping', {}), p.run<{ pid: number }>('ping', { busySeconds: 3 })]);
    const warmed = await warming;
    expect(warmed).not.toBeNull();
    expect(first.pid).toBe(warmed!.pid);
    expect(second.pid).not.toBe(warmed!.pid);
    expect(Date.now() - started).toBeGreaterThan(500); // it did wait for the warm-up's end
    expect(p.processes).toBe(2);
  });

  it('skips a warm-up that would have to wait, and a second one while the first runs', async () => {
    const p = pool(1);
    const busy = p.run('ping', { busySeconds: 1 });
    expect(await p.warmUp('ping', {})).toBeNull(); // the one process is busy: no queueing behind work
    await busy;
    const warming = p.warmUp<{ pid: number }>('ping', { busySeconds: 0.5 });
    expect(await p.warmUp('ping', {})).toBeNull(); // one warm-up at a time
    expect((await warming)?.pid).toBeGreaterThan(0);
    expect(p.processes).toBe(1);
  });
});
