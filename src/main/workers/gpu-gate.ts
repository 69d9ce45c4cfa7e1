import type { SidecarDevice } from '../sidecar/protocol';

/** GPU memory one Demucs separation needs with default settings (NOTES: 3 GB minimum, ~7 GB typical). */
export const DEFAULT_BYTES_PER_JOB = 4 * 2 ** 30;

/**
 * Limits how many separations share one GPU by its free memory, so a second job waits for the
 * first instead of failing with CUDA out-of-memory (the most common failure users report).
 * Without a CUDA device the gate lets everything through: the CPU path is limited by the queue.
 */
export class GpuGate {
  private running = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private readonly bytesPerJob = DEFAULT_BYTES_PER_JOB) {}

  /** How many jobs fit on the first CUDA device of `devices` (at least one); null without CUDA. */
  capacity(devices: readonly SidecarDevice[]): number | null {
    const cuda = devices.find((d) => d.type === 'cuda');
    if (!cuda) return null;
    const free = cuda.freeMemory ?? cuda.totalMemory ?? 0;
    return Math.max(1, Math.floor(free / this.bytesPerJob));
  }

  /**
   * Wait for a slot on the GPU; resolves to a release function. `onWait` is told once when the
   * job has to wait, so the UI can say why it is not moving. An aborted wait rejects.
   */
  async acquire(devices: readonly SidecarDevice[], options: { signal?: AbortSignal; onWait?: () => void } = {}): Promise<() => void> {
    const limit = this.capacity(devices);
    if (limit === null) return () => undefined;
    if (this.running >= limit) {
      options.onWait?.();
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          options.signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(options.signal?.reason ?? new Error('aborted'));
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        this.waiters.push(wake);
      });
      return this.acquire(devices, options);
    }
    this.running++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running--;
      this.waiters.shift()?.();
    };
  }

  get active(): number {
    return this.running;
  }
}
