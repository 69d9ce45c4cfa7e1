/**
 * One provisioning run per environment folder at a time, across processes: the app, a second
 * launch of it, `sfa`, `npm run setup`. Two pips in one venv corrupt it.
 *
 * The lock is a file beside the environment (`<envDir>.lock`, so deleting the environment never
 * deletes a lock in use) created exclusively, holding `{ pid, host, at }`, and touched every few
 * seconds while held. A later run waits while the holder is alive and the file is fresh; it takes
 * the lock over when the holder's process is gone (a crash, a killed app) or the file has not
 * been touched for `staleMs` (a frozen machine, a reused pid).
 */
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';

export const LOCK_HEARTBEAT_MS = 5000;
export const LOCK_STALE_MS = 60_000;

export function envLockPath(envDir) {
  return `${envDir.replace(/[\\/]+$/, '')}.lock`;
}

function readHolder(file) {
  try {
    return { ...JSON.parse(readFileSync(file, 'utf8')), touched: statSync(file).mtimeMs };
  } catch {
    return null; // gone, or being written: look again
  }
}

function processAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM'; // alive, someone else's
  }
}

function killGroup(pid) {
  try {
    process.kill(process.platform === 'win32' ? pid : -pid, 'SIGKILL');
  } catch {
    // gone meanwhile
  }
}

/** Why a holder no longer counts (null: it does). */
export function staleReason(holder, { staleMs = LOCK_STALE_MS, now = Date.now() } = {}) {
  if (!holder) return 'unreadable';
  if (holder.host === hostname() && !processAlive(holder.pid)) return `process ${holder.pid} has ended`;
  if (now - holder.touched > staleMs) return `not renewed for ${Math.round((now - holder.touched) / 1000)} s`;
  return null;
}

/**
 * Takes the lock, waiting (polling) while another live run holds it. `onWait(holder)` is called
 * once when waiting starts, `onTakeover(holder, reason)` when a dead run's lock is taken over.
 * Resolves with `{ release(), setChild(pid) }` (`setChild` records the running command, so a run
 * that takes over after a crash can end it). Rejects with the signal's reason when aborted while waiting.
 */
export async function acquireEnvLock(envDir, { signal, onWait, onTakeover, staleMs = LOCK_STALE_MS, pollMs = 250, heartbeatMs = LOCK_HEARTBEAT_MS } = {}) {
  const file = envLockPath(envDir);
  mkdirSync(dirname(file), { recursive: true });
  let waiting = false;
  const record = { pid: process.pid, host: hostname(), at: new Date().toISOString(), child: null };
  for (;;) {
    signal?.throwIfAborted();
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, JSON.stringify(record));
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
    }
    const holder = readHolder(file);
    const reason = holder && holder.pid === process.pid && holder.host === hostname() ? null : staleReason(holder, { staleMs });
    if (reason && holder) {
      // a run killed mid-step can leave its pip running (it leads its own process group): end it first
      if (holder.child && holder.host === hostname() && processAlive(holder.child)) killGroup(holder.child);
      onTakeover?.(holder, reason);
      rmSync(file, { force: true });
      continue;
    }
    if (!waiting && holder) {
      waiting = true;
      onWait?.(holder);
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
    });
  }
  const heartbeat = setInterval(() => {
    const now = new Date();
    try {
      utimesSync(file, now, now);
    } catch {
      // taken over or removed by hand: nothing to renew
    }
  }, heartbeatMs);
  heartbeat.unref?.();
  let released = false;
  const ours = () => {
    const holder = readHolder(file);
    return holder?.pid === process.pid && holder.host === hostname();
  };
  return {
    setChild(pid) {
      if (released || !ours()) return;
      record.child = pid ?? null;
      writeFileSync(`${file}.tmp`, JSON.stringify(record));
      renameSync(`${file}.tmp`, file);
    },
    release() {
      if (released) return;
      released = true;
      clearInterval(heartbeat);
      if (ours()) rmSync(file, { force: true });
    },
  };
}
