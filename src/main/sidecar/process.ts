import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { SfaError } from '../../shared/errors';
import type { Logger } from '../log';
import { pythonExists, type PythonEnvironment } from './environment';
import { parseMessage, PROTOCOL_VERSION, type EngineMessage, type HelloMessage, type SidecarMessage } from './protocol';

export interface RequestOptions {
  signal?: AbortSignal;
  onProgress?: (fraction: number, message: string) => void;
  /** Fail with SIDECAR_TIMEOUT (and kill the process) when no reply comes in time. */
  timeoutMs?: number;
}

export interface SidecarOptions {
  env: PythonEnvironment;
  /** Extra environment variables (NUMBA_CACHE_DIR, thread counts...). */
  vars?: Record<string, string | undefined>;
  args?: string[];
  logger?: Logger;
  helloTimeoutMs?: number;
  /** After a cancel, how long the op may take to stop before the process is killed. */
  cancelGraceMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  onProgress?: RequestOptions['onProgress'];
  cleanup: () => void;
  cancelled: boolean;
}

/** One running `python -m sfa_sidecar`: starts, says hello, answers requests one at a time. */
export class SidecarProcess {
  readonly ready: Promise<HelloMessage>;
  private child: ChildProcessWithoutNullStreams;
  private pending = new Map<string, Pending>();
  private nextId = 1;
  private exited = false;
  private killed = false;
  private exitReason = '';
  private stderrTail: string[] = [];

  constructor(private readonly options: SidecarOptions) {
    const { env } = options;
    if (!pythonExists(env)) {
      throw new SfaError(
        'SIDECAR_UNAVAILABLE',
        `The Python environment is missing (${env.python}). Run \`npm install\` (or \`npm run setup\`) to create it, or set SFA_PYTHON.`,
      );
    }
    this.child = spawn(env.python, ['-m', 'sfa_sidecar', ...(options.args ?? [])], {
      cwd: env.packageRoot,
      env: {
        ...process.env,
        PYTHONPATH: env.packageRoot,
        PYTHONUNBUFFERED: '1',
        PYTHONIOENCODING: 'utf-8',
        ...options.vars,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    let helloResolve!: (hello: HelloMessage) => void;
    let helloReject!: (error: Error) => void;
    this.ready = new Promise<HelloMessage>((res, rej) => {
      helloResolve = res;
      helloReject = rej;
    });
    // Callers that never await `ready` must not see an unhandled rejection.
    this.ready.catch(() => undefined);
    const helloTimer = setTimeout(() => {
      helloReject(new SfaError('SIDECAR_TIMEOUT', `The Python sidecar did not start within ${this.helloTimeoutMs / 1000} s.`));
      this.kill();
    }, this.helloTimeoutMs);

    createInterface({ input: this.child.stdout }).on('line', (line) => {
      const message = parseMessage(line);
      if (!message) return;
      if (message.type === 'hello') {
        clearTimeout(helloTimer);
        if (message.protocol !== PROTOCOL_VERSION) {
          helloReject(new SfaError('SIDECAR_UNAVAILABLE', `The Python sidecar speaks protocol ${message.protocol}, the app ${PROTOCOL_VERSION}: its files are from another version. Reinstall the app or run \`npm run setup\`.`));
          this.kill();
          return;
        }
        helloResolve(message);
      } else {
        this.dispatch(message);
      }
    });
    createInterface({ input: this.child.stderr }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 40) this.stderrTail.shift();
      options.logger?.debug(`[sidecar ${this.child.pid}] ${line}`);
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
    });
    // 'close' comes after the output streams ended, so the error carries the last stderr lines.
    this.child.on('close', () => helloReject(this.killed ? this.crashError('while starting') : this.unavailableError()));
  }

  private get helloTimeoutMs(): number {
    return this.options.helloTimeoutMs ?? 120_000;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return !this.exited && !this.killed;
  }

  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Send a request and resolve with its result; progress and cancellation flow both ways. */
  async request<T = unknown>(op: string, params: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
    await this.ready;
    if (this.exited) throw this.crashError('before the request');
    if (options.signal?.aborted) throw new SfaError('CANCELLED', 'Cancelled.');
    const id = String(this.nextId++);
    return new Promise<T>((resolve, reject) => {
      let killTimer: NodeJS.Timeout | undefined;
      let timeoutTimer: NodeJS.Timeout | undefined;
      // A cancel is settled by the sidecar's answer, or by killing it when a library call ignores
      // the flag (a long C loop): the caller learns within the grace period either way, and the
      // pool never reuses a process that still works on a cancelled request.
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
          reject(new SfaError('SIDECAR_TIMEOUT', `The ${op} step did not finish within ${Math.round(options.timeoutMs! / 1000)} s.`));
        }, options.timeoutMs);
      }
      const cleanup = () => {
        clearTimeout(timeoutTimer);
        clearTimeout(killTimer);
        options.signal?.removeEventListener('abort', onAbort);
      };
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, onProgress: options.onProgress, cleanup, cancelled: false });
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.send({ type: 'request', id, op, params });
    });
  }

  private dispatch(message: SidecarMessage): void {
    if (message.type === 'hello') return;
    const id = message.id ?? '';
    const entry = this.pending.get(id);
    if (!entry) {
      if (message.type === 'error' && !message.id) this.options.logger?.warn(`sidecar: ${message.code} ${message.message}`);
      return;
    }
    if (message.type === 'progress') {
      entry.onProgress?.(message.fraction, message.message);
      return;
    }
    this.pending.delete(id);
    entry.cleanup();
    if (entry.cancelled) entry.reject(new SfaError('CANCELLED', 'Cancelled.'));
    else if (message.type === 'result') entry.resolve(message.result);
    else entry.reject(new SfaError(message.code, message.message));
  }

  private send(message: EngineMessage): void {
    if (this.exited || !this.child.stdin.writable) return;
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  private unavailableError(): SfaError {
    const tail = this.stderrTail.slice(-3).join(' | ');
    return new SfaError(
      'SIDECAR_UNAVAILABLE',
      `The Python environment is broken: ${this.options.env.python} did not start the sidecar (${this.exitReason || 'unknown reason'})${tail ? `: ${tail}` : ''}. ` +
        'Run `npm run setup` (or `npm install`) to repair it, or point SFA_PYTHON at a working interpreter; `sfa doctor` shows the details.',
    );
  }

  private crashError(when: string): SfaError {
    const tail = this.stderrTail.slice(-3).join(' | ');
    return new SfaError(
      'SIDECAR_CRASHED',
      `The Python sidecar stopped ${when} (${this.exitReason || 'unknown reason'})${tail ? `: ${tail}` : ''}.`,
    );
  }

  private onExit(reason: string): void {
    if (this.exited) return;
    this.exited = true;
    this.exitReason = reason;
    const error = this.crashError('while working');
    for (const [, entry] of this.pending) {
      entry.cleanup();
      entry.reject(entry.cancelled ? new SfaError('CANCELLED', 'Cancelled.') : error);
    }
    this.pending.clear();
  }

  kill(): void {
    if (this.exited) return;
    this.killed = true;
    this.child.kill('SIGKILL');
  }

  /** Ask the sidecar to exit; kill it if it does not within `graceMs`. */
  async shutdown(graceMs = 2000): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.send({ type: 'shutdown' });
    this.child.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await exited;
    clearTimeout(timer);
  }
}
