import type { SidecarDevice } from '../sidecar/protocol';

const GiB = 2 ** 30;

/**
 * GPU memory one separation needs with default settings. HTDemucs models (htdemucs, _ft, _6s;
 * bags run their members one after another) fit in ~4 GiB; the Demucs v3 models run 44 s
 * segments and need ~7 GiB (README, "GPU memory").
 */
export const HTDEMUCS_BYTES = 4 * GiB;
export const V3_BYTES = 7 * GiB;
const V3_MODELS = new Set(['hdemucs_mmi', 'mdx', 'mdx_extra', 'mdx_q', 'mdx_extra_q']);

export function modelBudget(model: string): number {
  return V3_MODELS.has(model) ? V3_BYTES : HTDEMUCS_BYTES;
}

export interface GpuRequest {
  /** The model to run: sets how much memory the job holds (`modelBudget`). */
  model: string;
  /** Current free bytes on the device, asked when none of our jobs runs on it (null: unknown). */
  freeMemory?: () => Promise<number | null>;
  signal?: AbortSignal;
  /** Told once when the job has to wait, so the UI can say why it is not moving. */
  onWait?: () => void;
}

interface DeviceState {
  /** Free bytes measured when none of our jobs ran there: what our jobs may share. */
  baseline: number;
  budgets: Set<{ bytes: number }>;
  waiters: (() => void)[];
}

/**
 * Limits how many separations share one GPU by its memory, so a second job waits for the first
 * instead of failing with out-of-memory (the most common failure users report).
 *
 * The free memory comes from the device when it is idle (none of our jobs on it), not from a
 * sidecar's hello: that figure is stale (taken at the sidecar's start) and would count running
 * jobs twice or not at all. While jobs run, each holds its model's budget against that baseline.
 * At least one job always runs (it falls back on its own if memory is short). Without a CUDA
 * device the gate lets everything through: the CPU path is limited by the queue.
 */
export class GpuGate {
  private readonly devices = new Map<string, DeviceState>();

  /** The device a job will use: the first CUDA device (the sidecar's current device). */
  static deviceOf(devices: readonly SidecarDevice[]): SidecarDevice | null {
    return devices.find((d) => d.type === 'cuda') ?? null;
  }

  /** How many jobs of `model` fit in `freeBytes` (at least one). */
  static capacity(freeBytes: number, model: string): number {
    return Math.max(1, Math.floor(freeBytes / modelBudget(model)));
  }

  /** Wait for room on the GPU; resolves to a release function (idempotent; call it early when
   * the job leaves the GPU, e.g. on a CPU fallback). An aborted wait rejects. */
  async acquire(devices: readonly SidecarDevice[], request: GpuRequest): Promise<() => void> {
    const cuda = GpuGate.deviceOf(devices);
    if (!cuda) return () => undefined;
    const key = `cuda:${cuda.index ?? 0}`;
    const bytes = modelBudget(request.model);
    let told = false;
    for (;;) {
      request.signal?.throwIfAborted();
      const state = this.devices.get(key);
      if (!state || state.budgets.size === 0) {
        const measured = await request.freeMemory?.().catch(() => null);
        const baseline = measured ?? cuda.totalMemory ?? cuda.freeMemory ?? bytes;
        const fresh = this.devices.get(key) ?? { baseline, budgets: new Set(), waiters: [] };
        // Another job may have taken the device while we measured: then keep its baseline.
        if (fresh.budgets.size === 0) fresh.baseline = baseline;
        this.devices.set(key, fresh);
      }
      const current = this.devices.get(key)!;
      const held = [...current.budgets].reduce((sum, b) => sum + b.bytes, 0);
      if (current.budgets.size === 0 || held + bytes <= current.baseline) return this.take(current, bytes);
      if (!told) {
        told = true;
        request.onWait?.();
      }
      await this.wait(current, request.signal);
    }
  }

  private take(state: DeviceState, bytes: number): () => void {
    const slot = { bytes };
    state.budgets.add(slot);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      state.budgets.delete(slot);
      // Every waiter re-checks: a freed 7 GiB slot may admit more than one 4 GiB job.
      for (const wake of state.waiters.splice(0)) wake();
    };
  }

  private wait(state: DeviceState, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const i = state.waiters.indexOf(wake);
        if (i >= 0) state.waiters.splice(i, 1);
        reject(signal?.reason ?? new Error('aborted'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      state.waiters.push(wake);
    });
  }

  /** Jobs holding GPU memory now, all devices together. */
  get active(): number {
    let n = 0;
    for (const state of this.devices.values()) n += state.budgets.size;
    return n;
  }
}
