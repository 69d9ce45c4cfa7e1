import { SidecarProcess, type RequestOptions, type SidecarOptions } from './process';
import type { HelloMessage } from './protocol';

/**
 * A pool of up to `size` warm sidecars for one kind of work (probe, analysis, processing).
 * A sidecar serves one request at a time; the pool starts them lazily, reuses idle ones,
 * replaces crashed or killed ones on the next request, and queues callers beyond `size`.
 */
export class SidecarPool {
  private readonly idle: SidecarProcess[] = [];
  private readonly all = new Set<SidecarProcess>();
  private readonly waiters: ((p: SidecarProcess) => void)[] = [];
  private closed = false;

  constructor(
    readonly name: string,
    private size: number,
    private readonly options: SidecarOptions,
  ) {}

  resize(size: number): void {
    this.size = Math.max(1, size);
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
    if (this.all.size < this.size) {
      const proc = new SidecarProcess(this.options);
      this.all.add(proc);
      return Promise.resolve(proc);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(proc: SidecarProcess): void {
    if (!proc.alive) {
      this.all.delete(proc);
      const waiter = this.waiters.shift();
      if (waiter && !this.closed) {
        const fresh = new SidecarProcess(this.options);
        this.all.add(fresh);
        waiter(fresh);
      }
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) waiter(proc);
    else if (this.all.size > this.size) {
      this.all.delete(proc);
      void proc.shutdown();
    } else this.idle.push(proc);
  }

  get processes(): number {
    return this.all.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.all].map((p) => p.shutdown()));
    this.all.clear();
    this.idle.length = 0;
  }
}
