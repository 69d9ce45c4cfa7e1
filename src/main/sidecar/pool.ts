import { SidecarProcess, type RequestOptions, type SidecarOptions } from './process';
import type { HelloMessage } from './protocol';

interface Waiter {
  resolve: (p: SidecarProcess) => void;
  reject: (error: unknown) => void;
}

/** How long a warm analysis or separation sidecar may wait for work before it is stopped. */
export const SIDECAR_IDLE_MS = 10 * 60_000;

export interface PoolOptions {
  /**
   * Stop a process that has waited this long for a request (undefined: never). A warm separation
   * sidecar holds its models and OpenVINO's buffers (~1.2 GB with two chunks in flight) while the
   * app sits open; the next request after the stop starts cold (a separation with htdemucs: ~4 s more).
   */
  idleMs?: number;
}

/**
 * A pool of up to `size` warm sidecars for one kind of work (probe, analysis, processing).
 * A sidecar serves one request at a time; the pool starts them lazily, reuses idle ones,
 * replaces crashed or killed ones on the next request, queues callers beyond `size`, and stops
 * processes left idle for `idleMs`.
 */
export class SidecarPool {
  private readonly idle: SidecarProcess[] = [];
  private readonly idleTimers = new Map<SidecarProcess, ReturnType<typeof setTimeout>>();
  private readonly all = new Set<SidecarProcess>();
  private readonly waiters: Waiter[] = [];
  /** Processes running a `warmUp` request: the next caller without an idle process waits for one of these. */
  private readonly warming = new Set<SidecarProcess>();
  /** Processes started with environment variables since replaced: retired when they come back. */
  private readonly stale = new WeakSet<SidecarProcess>();
  private options: SidecarOptions;
  private closed = false;

  constructor(
    readonly name: string,
    private size: number,
    options: SidecarOptions,
    private readonly poolOptions: PoolOptions = {},
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

  private park(proc: SidecarProcess): void {
    this.idle.push(proc);
    if (this.poolOptions.idleMs === undefined) return;
    const timer = setTimeout(() => {
      this.idleTimers.delete(proc);
      const at = this.idle.indexOf(proc);
      if (at < 0) return;
      this.idle.splice(at, 1);
      this.retire(proc);
    }, this.poolOptions.idleMs);
    timer.unref?.(); // an idle pool never keeps the host alive
    this.idleTimers.set(proc, timer);
  }

  private unpark(proc: SidecarProcess): void {
    clearTimeout(this.idleTimers.get(proc));
    this.idleTimers.delete(proc);
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

  /**
   * Run a warm-up request (`op`, e.g. loading the model a queued separation will use) only where
   * it makes no one wait: on an idle process or a new one within `size`, never queued behind work,
   * one at a time. While it runs, the next caller that finds no idle process waits for this one
   * (warm for it, seconds from ready) instead of starting a cold process beside it. Resolves null
   * when skipped.
   */
  async warmUp<T>(op: string, params: Record<string, unknown>, options: RequestOptions = {}): Promise<T | null> {
    if (this.closed || this.warming.size > 0) return null;
    const proc = this.takeIdle() ?? this.startWithinSize();
    if (!proc) return null;
    this.warming.add(proc);
    try {
      return await proc.request<T>(op, params, options);
    } finally {
      this.warming.delete(proc);
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
    // A warm-up not yet claimed by a waiter is worth waiting for: it is loading what this caller needs.
    const proc = this.takeIdle() ?? (this.warming.size > this.waiters.length ? undefined : this.startWithinSize());
    if (proc) return Promise.resolve(proc);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private takeIdle(): SidecarProcess | undefined {
    while (this.idle.length) {
      const proc = this.idle.pop()!;
      this.unpark(proc);
      if (proc.alive) return proc;
      this.all.delete(proc);
    }
    return undefined;
  }

  private startWithinSize(): SidecarProcess | undefined {
    return this.all.size < this.size ? this.start() : undefined;
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
    else this.park(proc);
  }

  private retire(proc: SidecarProcess): void {
    this.unpark(proc);
    this.all.delete(proc);
    void proc.shutdown();
  }

  get processes(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error(`sidecar pool ${this.name} is closed`));
    for (const proc of this.idleTimers.keys()) this.unpark(proc);
    await Promise.all([...this.all].map((p) => p.shutdown()));
    this.all.clear();
    this.idle.length = 0;
  }
}
