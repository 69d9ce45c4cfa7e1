import { SidecarProcess, type RequestOptions, type SidecarOptions } from './process';
import type { HelloMessage } from './protocol';

interface Waiter {
  resolve: (p: SidecarProcess) => void;
  reject: (error: unknown) => void;
}

/**
 * A pool of up to `size` warm sidecars for one kind of work (probe, analysis, processing).
 * A sidecar serves one request at a time; the pool starts them lazily, reuses idle ones,
 * replaces crashed or killed ones on the next request, and queues callers beyond `size`.
 */
export class SidecarPool {
  private readonly idle: SidecarProcess[] = [];
  private readonly all = new Set<SidecarProcess>();
  private readonly waiters: Waiter[] = [];
  /** Processes started with environment variables since replaced: retired when they come back. */
  private readonly stale = new WeakSet<SidecarProcess>();
  private options: SidecarOptions;
  private closed = false;

  constructor(
    readonly name: string,
    private size: number,
    options: SidecarOptions,
  ) {
    this.options = { ...options };
  }

  resize(size: number): void {
    this.size = Math.max(1, size);
  }

  /**
   * Change environment variables (`undefined` removes one) for every process from now on: idle
   * processes stop at once, busy ones when their request ends, so a setting applies without a restart.
   */
  updateVars(patch: Record<string, string | undefined>): void {
    this.update({ vars: patch });
  }

  /**
   * Change the program's arguments and/or environment variables (as `updateVars`) for every
   * process from now on: e.g. local sidecars become cluster drivers when a cluster address is set.
   */
  update(change: { args?: string[]; vars?: Record<string, string | undefined> }): void {
    const vars = { ...this.options.vars };
    let changed = false;
    for (const [key, value] of Object.entries(change.vars ?? {})) {
      if (vars[key] === value) continue;
      changed = true;
      if (value === undefined) delete vars[key];
      else vars[key] = value;
    }
    const args = change.args ?? this.options.args;
    if (change.args && JSON.stringify(change.args) !== JSON.stringify(this.options.args ?? [])) changed = true;
    if (!changed) return;
    this.options = { ...this.options, vars, args };
    for (const proc of this.all) this.stale.add(proc);
    for (const proc of this.idle.splice(0)) this.retire(proc);
  }

  /** Start one sidecar now so the first real request finds it warm. */
  async warm(): Promise<HelloMessage> {
    const proc = await this.acquire();
    try {
      return await proc.ready;
    } finally {
      this.release(proc);
    }
  }

  async run<T>(op: string, params: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
    const proc = await this.acquire();
    try {
      return await proc.request<T>(op, params, options);
    } finally {
      this.release(proc);
    }
  }

  private acquire(): Promise<SidecarProcess> {
    if (this.closed) return Promise.reject(new Error(`sidecar pool ${this.name} is closed`));
    while (this.idle.length) {
      const proc = this.idle.pop()!;
      if (proc.alive) return Promise.resolve(proc);
      this.all.delete(proc);
    }
    if (this.all.size < this.size) return Promise.resolve(this.start());
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** A new process counted in the pool (throws when the environment is missing). */
  private start(): SidecarProcess {
    const proc = new SidecarProcess(this.options);
    this.all.add(proc);
    return proc;
  }

  private release(proc: SidecarProcess): void {
    if (!proc.alive || this.stale.has(proc)) {
      if (proc.alive) this.retire(proc);
      else this.all.delete(proc);
      // The freed slot goes to the next waiter as a fresh process; when that cannot start the
      // waiter gets the error (it must never be left waiting for a process that will not come).
      const waiter = this.waiters.shift();
      if (!waiter) return;
      if (this.closed) return waiter.reject(new Error(`sidecar pool ${this.name} is closed`));
      try {
        waiter.resolve(this.start());
      } catch (error) {
        waiter.reject(error);
      }
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(proc);
    else if (this.all.size > this.size) this.retire(proc);
    else this.idle.push(proc);
  }

  private retire(proc: SidecarProcess): void {
    this.all.delete(proc);
    void proc.shutdown();
  }

  get processes(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`sidecar pool ${this.name} is closed`));
    await Promise.all([...this.all].map((p) => p.shutdown()));
    this.all.clear();
    this.idle.length = 0;
  }
}
