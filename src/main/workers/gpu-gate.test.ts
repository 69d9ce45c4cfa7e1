import { describe, expect, it } from 'vitest';
import type { SidecarDevice } from '../sidecar/protocol';
import { GpuGate } from './gpu-gate';

const GB = 2 ** 30;
const cuda = (freeGb: number): SidecarDevice[] => [
  { type: 'cpu', name: 'x86_64' },
  { type: 'cuda', name: 'NVIDIA Test', index: 0, totalMemory: 24 * GB, freeMemory: freeGb * GB },
];

describe('GpuGate', () => {
  it('lets every job through without a CUDA device', async () => {
    const gate = new GpuGate(4 * GB);
    const releases = await Promise.all([1, 2, 3].map(() => gate.acquire([{ type: 'cpu', name: 'cpu' }])));
    expect(releases).toHaveLength(3);
    expect(gate.active).toBe(0);
  });

  it('runs as many jobs as fit in free memory, and makes the next one wait until one ends', async () => {
    const gate = new GpuGate(4 * GB);
    expect(gate.capacity(cuda(9))).toBe(2);
    expect(gate.capacity(cuda(2))).toBe(1); // never zero: one job may still try (and fall back on OOM)
    const first = await gate.acquire(cuda(9));
    const second = await gate.acquire(cuda(9));
    let waited = false;
    let thirdStarted = false;
    const third = gate.acquire(cuda(9), { onWait: () => (waited = true) }).then((release) => {
      thirdStarted = true;
      return release;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(waited).toBe(true);
    expect(thirdStarted).toBe(false);
    first();
    const release3 = await third;
    expect(thirdStarted).toBe(true);
    expect(gate.active).toBe(2);
    second();
    release3();
    release3(); // releasing twice is harmless
    expect(gate.active).toBe(0);
  });

  it('stops waiting when the job is cancelled', async () => {
    const gate = new GpuGate(4 * GB);
    const hold = await gate.acquire(cuda(4));
    const controller = new AbortController();
    const waiting = gate.acquire(cuda(4), { signal: controller.signal });
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    hold();
    expect(gate.active).toBe(0);
    (await gate.acquire(cuda(4)))();
  });
});
