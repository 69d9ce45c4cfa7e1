import { describe, expect, it } from 'vitest';
import type { SidecarDevice } from '../sidecar/protocol';
import { GpuGate, HTDEMUCS_BYTES, V3_BYTES, modelBudget } from './gpu-gate';

const GB = 2 ** 30;
/** A hello's device list: its freeMemory is the stale figure from the sidecar's start. */
const hello = (staleFreeGb: number, index = 0): SidecarDevice[] => [
  { type: 'cpu', name: 'x86_64' },
  { type: 'cuda', name: 'NVIDIA Test', index, totalMemory: 24 * GB, freeMemory: staleFreeGb * GB },
];
const free = (gb: number) => {
  const asked: number[] = [];
  return { asked, freeMemory: async () => (asked.push(gb), gb * GB) };
};
const tick = () => new Promise((r) => setTimeout(r, 20));

describe('GpuGate', () => {
  it('lets every job through without a CUDA device', async () => {
    const gate = new GpuGate();
    const releases = await Promise.all([1, 2, 3].map(() => gate.acquire([{ type: 'cpu', name: 'cpu' }], { model: 'htdemucs' })));
    expect(releases).toHaveLength(3);
    expect(gate.active).toBe(0);
  });

  it('budgets per model: v3 models (44 s segments) hold ~7 GiB, HTDemucs ~4 GiB', () => {
    expect(modelBudget('htdemucs')).toBe(HTDEMUCS_BYTES);
    expect(modelBudget('htdemucs_ft')).toBe(HTDEMUCS_BYTES);
    expect(modelBudget('mdx_extra')).toBe(V3_BYTES);
    expect(GpuGate.capacity(16 * GB, 'htdemucs')).toBe(4);
    expect(GpuGate.capacity(16 * GB, 'mdx_extra')).toBe(2);
    expect(GpuGate.capacity(2 * GB, 'htdemucs')).toBe(1); // never zero: one job may still try
  });

  it('measures free memory on the idle device, not the hello figure, and holds each job once', async () => {
    const gate = new GpuGate();
    const probe = free(9); // the hello says 24 GB free, but another app took 15 since
    const first = await gate.acquire(hello(24), { model: 'htdemucs', ...probe });
    const second = await gate.acquire(hello(24), { model: 'htdemucs', ...probe });
    expect(probe.asked).toEqual([9]); // asked only while the device was idle
    let waited = false;
    let thirdStarted = false;
    const third = gate
      .acquire(hello(24), { model: 'htdemucs', ...probe, onWait: () => (waited = true) })
      .then((release) => ((thirdStarted = true), release));
    await tick();
    expect(waited).toBe(true);
    expect(thirdStarted).toBe(false);
    first();
    const release3 = await third;
    expect(gate.active).toBe(2);
    second();
    release3();
    release3(); // releasing twice is harmless
    expect(gate.active).toBe(0);
    // Idle again: the next job measures again (the other app has gone).
    const later = free(20);
    const a = await gate.acquire(hello(24), { model: 'mdx_extra', ...later });
    const b = await gate.acquire(hello(24), { model: 'mdx_extra', ...later });
    let cStarted = false;
    const c = gate.acquire(hello(24), { model: 'htdemucs', ...later }).then((r) => ((cStarted = true), r));
    await tick();
    expect(cStarted).toBe(true); // 7 + 7 + 4 <= 20
    const d = gate.acquire(hello(24), { model: 'mdx_extra', ...later });
    await tick();
    expect(gate.active).toBe(3);
    a();
    (await d)();
    b();
    (await c)();
    expect(later.asked).toEqual([20]);
  });

  it('keeps devices apart', async () => {
    const gate = new GpuGate();
    const zero = await gate.acquire(hello(24, 0), { model: 'mdx', freeMemory: async () => 8 * GB });
    const one = await gate.acquire(hello(24, 1), { model: 'mdx', freeMemory: async () => 8 * GB });
    expect(gate.active).toBe(2);
    zero();
    one();
  });

  it('a job released early (it fell back to the CPU) lets the next one in', async () => {
    const gate = new GpuGate();
    const release = await gate.acquire(hello(4), { model: 'htdemucs', freeMemory: async () => 4 * GB });
    let started = false;
    const next = gate.acquire(hello(4), { model: 'htdemucs', freeMemory: async () => 4 * GB }).then((r) => ((started = true), r));
    await tick();
    expect(started).toBe(false);
    release(); // the sidecar said "retrying on cpu"
    (await next)();
    expect(started).toBe(true);
  });

  it('falls back to the device total when free memory cannot be asked', async () => {
    const gate = new GpuGate();
    const failing = { model: 'htdemucs', freeMemory: async () => Promise.reject(new Error('sidecar busy')) };
    const held = await Promise.all([1, 2, 3, 4, 5, 6].map(() => gate.acquire(hello(1), failing)));
    expect(gate.active).toBe(6); // 24 GB total / 4 GiB
    held.forEach((r) => r());
  });

  it('stops waiting when the job is cancelled', async () => {
    const gate = new GpuGate();
    const hold = await gate.acquire(hello(4), { model: 'htdemucs', freeMemory: async () => 4 * GB });
    const controller = new AbortController();
    const waiting = gate.acquire(hello(4), { model: 'htdemucs', signal: controller.signal });
    await tick();
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    hold();
    expect(gate.active).toBe(0);
    (await gate.acquire(hello(4), { model: 'htdemucs' }))();
  });
});
