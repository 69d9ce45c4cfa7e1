import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Logger } from '../log';
import { tempDir } from '../../test/fixtures';
import { pythonEnvironment } from './environment';
import { JitCache } from './jit-cache';
import { SidecarPool } from './pool';

const pools: SidecarPool[] = [];
const cleanups: (() => void)[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
  for (const c of cleanups.splice(0)) c();
});

function recordingLogger(lines: string[]): Logger {
  const note = (m: string) => void lines.push(m);
  return { debug() {}, info() {}, warn: note, error: note };
}

/** A cache root holding one (pretend) compiled entry, and a pool whose sidecars use it. */
function setup() {
  const { dir, cleanup } = tempDir('sfa-jit-');
  cleanups.push(cleanup);
  const lines: string[] = [];
  const cache = new JitCache(join(dir, 'numba'), recordingLogger(lines));
  mkdirSync(join(cache.root, 'env-key'), { recursive: true });
  writeFileSync(join(cache.root, 'env-key', 'kernel.nbc'), 'compiled');
  const pool = new SidecarPool('analysis', 1, {
    env: pythonEnvironment(),
    args: ['--no-devices'],
    vars: cache.vars,
    onNativeCrash: (reason) => cache.quarantineAfter(reason),
  });
  pools.push(pool);
  return { cache, pool, lines: () => lines };
}

const exited = (pid: number) =>
  new Promise<void>((resolve) => {
    const poll = setInterval(() => {
      try {
        process.kill(pid, 0);
      } catch {
        clearInterval(poll);
        resolve();
      }
    }, 20);
  });

describe('numba cache after a native crash (real Python)', () => {
  it('moves the cache aside when a sidecar dies of SIGSEGV, and the next sidecar serves', async () => {
    const { cache, pool, lines } = setup();
    const hello = await pool.warm();
    const busy = pool.run('ping', { busySeconds: 30 });
    await new Promise((r) => setTimeout(r, 300));
    process.kill(hello.pid, 'SIGSEGV');
    await expect(busy).rejects.toMatchObject({ code: 'SIDECAR_CRASHED', message: expect.stringContaining('SIGSEGV') });
    expect(existsSync(cache.root)).toBe(false);
    expect(readFileSync(join(cache.quarantine, 'env-key', 'kernel.nbc'), 'utf8')).toBe('compiled');
    expect(lines().join('\n')).toMatch(/killed by SIGSEGV.*moved to .*numba\.crashed/s);
    const pong = await pool.run<{ pid: number }>('ping', {});
    expect(pong.pid).not.toBe(hello.pid);
  });

  it('keeps the cache when the process is stopped from outside (SIGKILL: a cancel, the app quitting)', async () => {
    const { cache, pool, lines } = setup();
    const hello = await pool.warm();
    process.kill(hello.pid, 'SIGKILL');
    await exited(hello.pid);
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(join(cache.root, 'env-key', 'kernel.nbc'))).toBe(true);
    expect(lines()).toEqual([]);
  });

  it('replaces the previous quarantine instead of piling them up', () => {
    const { cache } = setup();
    mkdirSync(join(cache.quarantine, 'old'), { recursive: true });
    cache.quarantineAfter('killed by SIGBUS');
    expect(existsSync(join(cache.quarantine, 'old'))).toBe(false);
    expect(existsSync(join(cache.quarantine, 'env-key', 'kernel.nbc'))).toBe(true);
  });
});
