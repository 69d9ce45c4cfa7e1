import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/fixtures';
import { HomeLock } from './lock';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

describe('HomeLock', () => {
  it('lets one holder in and gives a second a clear HOME_LOCKED error', () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, '.lock');
    const first = HomeLock.acquire(file);
    expect(() => HomeLock.acquire(file)).toThrow(expect.objectContaining({ code: 'HOME_LOCKED' }));
    first.release();
    HomeLock.acquire(file).release();
  });

  it('is released by the OS when the holder is killed with SIGKILL', async () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    const file = join(t.dir, '.lock');
    const script = `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(file)}); db.pragma('locking_mode = EXCLUSIVE');
      db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER, since TEXT)'); db.exec('BEGIN EXCLUSIVE'); db.prepare('INSERT INTO holder VALUES (1, 1)').run();
      console.log('locked'); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    expect(() => HomeLock.acquire(file)).toThrow(expect.objectContaining({ code: 'HOME_LOCKED' }));
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    HomeLock.acquire(file).release();
  });
});
