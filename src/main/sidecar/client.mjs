/**
 * The one client of the sidecar's JSON-lines protocol (python/sfa_sidecar/protocol.json), shared
 * by the engine (src/main/sidecar/process.ts) and provisioning (scripts/provision/index.mjs, which
 * runs at `npm install` before any build: hence plain JavaScript, typed by client.d.mts).
 *
 * One running `python -m sfa_sidecar`, started through execa with an argument array and no shell:
 * it says hello, answers requests (several may wait; the sidecar runs them in order), streams
 * progress, and takes cancels. stdout carries only the protocol; stderr lines go to `onStderrLine`
 * and the last ones into error messages. execa's cleanup kills it if this process exits first.
 */
import { execa } from 'execa';

const STDERR_TAIL = 40;

/** How a process ends when native code (numba's compiled kernels, a library's C) crashes in it. */
const NATIVE_CRASH_SIGNALS = new Set(['SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGABRT']);
/** Windows has no signals: an access violation is this exit status (0xC0000005). */
const WINDOWS_ACCESS_VIOLATION = 0xc0000005;

/** Errors carry a code from src/shared/errors.ts; `makeError` lets the engine make its own type. */
const plainError = (code, message) => Object.assign(new Error(message), { code });

export class SidecarClient {
  /**
   * @param {import('./client.d.mts').SidecarClientOptions} options
   */
  constructor(options) {
    this.options = options;
    this.makeError = options.makeError ?? plainError;
    this.pending = new Map();
    this.nextId = 1;
    this.exited = false;
    this.killed = false;
    this.exitReason = '';
    this.stderrTail = [];
    const env = { ...process.env, PYTHONPATH: options.packageRoot, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8', ...options.env };
    for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
    this.child = execa(options.python, ['-m', 'sfa_sidecar', ...(options.args ?? [])], {
      cwd: options.packageRoot,
      env,
      extendEnv: false,
      shell: false,
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      windowsHide: true,
    });
    let helloResolve;
    let helloReject;
    this.ready = new Promise((res, rej) => {
      helloResolve = res;
      helloReject = rej;
    });
    // Callers that never await `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    const helloTimeoutMs = options.helloTimeoutMs ?? 120_000;
    const helloTimer = setTimeout(() => {
      helloReject(this.makeError('SIDECAR_TIMEOUT', `The Python sidecar did not start within ${helloTimeoutMs / 1000} s.`));
      this.kill();
    }, helloTimeoutMs);

    lines(this.child.stdout, (line) => {
      const message = options.parse ? options.parse(line) : parseLine(line);
      if (!message) return;
      if (message.type === 'hello') {
        clearTimeout(helloTimer);
        const refusal = options.checkHello?.(message);
        if (refusal) {
          helloReject(this.makeError('SIDECAR_UNAVAILABLE', refusal));
          this.kill();
          return;
        }
        helloResolve(message);
      } else {
        this.dispatch(message);
      }
    });
    lines(this.child.stderr, (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
      options.onStderrLine?.(line, this.child.pid);
    });
    this.child.stdin.on('error', () => undefined); // EPIPE after a crash: reported through 'exit'
    // A process that never says hello is a broken environment (a missing package, a python that
    // exits at once, a file that is not executable), not a crash: SIDECAR_UNAVAILABLE, with the
    // fix. Node emits 'error' without 'exit' when the spawn itself fails: settle `ready` there too.
    this.child.on('error', (error) => {
      clearTimeout(helloTimer);
      this.onExit(`could not start: ${error.message}`);
      helloReject(this.unavailableError());
    });
    this.child.on('exit', (code, signal) => {
      clearTimeout(helloTimer);
      this.onExit(signal ? `killed by ${signal}` : `exited with code ${code}`);
      const native = signal ? NATIVE_CRASH_SIGNALS.has(signal) : code === WINDOWS_ACCESS_VIOLATION || code === WINDOWS_ACCESS_VIOLATION - 2 ** 32;
      if (native && !this.killed) options.onNativeCrash?.(this.exitReason, this.child.pid);
    });
    // 'close' comes after the output streams ended, so the error carries the last stderr lines.
    this.child.on('close', () => helloReject(this.killed ? this.crashError('while starting') : this.unavailableError()));
  }

  get pid() {
    return this.child.pid;
  }

  get alive() {
    return !this.exited && !this.killed;
  }

  get busy() {
    return this.pending.size > 0;
  }

  /** Send a request and resolve with its result; progress and cancellation flow both ways. */
  async request(op, params, options = {}) {
    await this.ready;
    if (this.exited) throw this.crashError('before the request');
    if (options.signal?.aborted) throw this.makeError('CANCELLED', 'Cancelled.');
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      let killTimer;
      let timeoutTimer;
      // A cancel is settled by the sidecar's answer, or by killing it when a library call ignores
      // the flag (a long C loop): the caller learns within the grace period either way, and no
      // caller reuses a process that still works on a cancelled request.
      const onAbort = () => {
        const entry = this.pending.get(id);
        if (!entry) return;
        entry.cancelled = true;
        this.send({ type: 'cancel', id });
        killTimer = setTimeout(() => this.kill(), this.options.cancelGraceMs ?? 1500);
      };
      if (options.timeoutMs) {
        timeoutTimer = setTimeout(() => {
          const entry = this.pending.get(id);
          if (!entry) return;
          this.pending.delete(id);
          entry.cleanup();
          this.kill();
          reject(this.makeError('SIDECAR_TIMEOUT', `The ${op} step did not finish within ${Math.round(options.timeoutMs / 1000)} s.`));
        }, options.timeoutMs);
      }
      const cleanup = () => {
        clearTimeout(timeoutTimer);
        clearTimeout(killTimer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, { resolve, reject, onProgress: options.onProgress, cleanup, cancelled: false });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ type: 'request', id, op, params });
    });
  }

  dispatch(message) {
    const id = message.id ?? '';
    const entry = this.pending.get(id);
    if (!entry) {
      if (message.type === 'error' && !message.id) this.options.onStrayError?.(message);
      return;
    }
    if (message.type === 'progress') {
      entry.onProgress?.(message.fraction, message.message);
      return;
    }
    this.pending.delete(id);
    entry.cleanup();
    if (entry.cancelled) entry.reject(this.makeError('CANCELLED', 'Cancelled.'));
    else if (message.type === 'result') entry.resolve(message.result);
    else entry.reject(this.makeError(message.code, message.message));
  }

  send(message) {
    if (this.exited || !this.child.stdin.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  unavailableError() {
    const tail = this.stderrTail.slice(-3).join(' | ');
    return this.makeError(
      'SIDECAR_UNAVAILABLE',
      `The Python environment is broken: ${this.options.python} did not start the sidecar (${this.exitReason || 'unknown reason'})${tail ? `: ${tail}` : ''}. ` +
        'Run `npm run setup` (or `npm install`) to repair it, or point SFA_PYTHON at a working interpreter; `sfa doctor` shows the details.',
    );
  }

  crashError(when) {
    const tail = this.stderrTail.slice(-3).join(' | ');
    return this.makeError('SIDECAR_CRASHED', `The Python sidecar stopped ${when} (${this.exitReason || 'unknown reason'})${tail ? `: ${tail}` : ''}.`);
  }

  onExit(reason) {
    if (this.exited) return;
    this.exited = true;
    this.exitReason = reason;
    const error = this.crashError('while working');
    for (const [, entry] of this.pending) {
      entry.cleanup();
      entry.reject(entry.cancelled ? this.makeError('CANCELLED', 'Cancelled.') : error);
    }
    this.pending.clear();
  }

  kill() {
    if (this.exited) return;
    this.killed = true;
    this.child.kill('SIGKILL');
  }

  /** Ask the sidecar to exit; kill it if it does not within `graceMs`. */
  async shutdown(graceMs = 2000) {
    if (this.exited) return;
    const exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'shutdown' });
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}

/** A protocol line as a message, or null (a non-JSON line cannot happen by design: stdout is claimed). */
export function parseLine(line) {
  try {
    const value = JSON.parse(line);
    if (value && typeof value === 'object' && typeof value.type === 'string') return value;
  } catch {
    // never crash on one
  }
  return null;
}

/** Calls `onLine` with each complete line of a text stream. */
function lines(stream, onLine) {
  let buffer = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      onLine(line);
    }
  });
  stream.on('end', () => {
    if (buffer) onLine(buffer);
  });
}
