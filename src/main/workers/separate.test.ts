import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SidecarDevice } from '../sidecar/protocol';
import type { WorkerDeps } from './deps';
import { GpuGate } from './gpu-gate';
import { processingWorker, separationKey, type SeparateArgs } from './separate';

const GB = 2 ** 30;
const devices: SidecarDevice[] = [
  { type: 'cpu', name: 'x86_64' },
  { type: 'cuda', name: 'Fake GPU', index: 0, totalMemory: 24 * GB },
];

interface Registered {
  optionsKey: string;
  path: string;
}

/** A processing worker over a fake GPU sidecar: `onRun` plays the sidecar's part of one job. */
function setup(onRun: (op: string, params: Record<string, unknown>, progress: (pct: number, message: string) => void) => Promise<unknown>) {
  const home = mkdtempSync(join(tmpdir(), 'sfa-separate-'));
  const audio = join(home, 'song.wav');
  writeFileSync(audio, 'RIFF');
  const registered: Registered[] = [];
  const ops: string[] = [];
  const gpu = new GpuGate();
  const deps = {
    paths: { stems: join(home, 'stems'), models: join(home, 'models') },
    tracks: { get: (id: string) => ({ id, path: audio }) },
    stems: { find: () => [], register: (rows: Registered[]) => registered.push(...rows) },
    sidecars: {
      processing: {
        warm: async () => ({ devices }),
        run: async (op: string, params: Record<string, unknown>, options: { onProgress?: (p: number, m: string) => void }) => {
          ops.push(op);
          if (op === 'gpu_memory') return { devices: [{ index: 0, freeMemory: 4 * GB, totalMemory: 24 * GB }] };
          return onRun(op, params, (pct, message) => options.onProgress?.(pct, message));
        },
      },
    },
    gpu,
  } as unknown as WorkerDeps;
  const worker = processingWorker(deps);
  const perform = async (args: SeparateArgs) => {
    const completions: (() => void)[] = [];
    const ctx = { signal: new AbortController().signal, attempt: 1, logger: console, progress: () => undefined, onComplete: (fn: () => void) => completions.push(fn) };
    const outcome = await worker.perform({ id: 1, attempt: 1, args } as never, ctx as never);
    for (const fn of completions) fn();
    return outcome as { ok?: Record<string, unknown> };
  };
  return { perform, registered, ops, gpu, home };
}

function stemsIn(outDir: string) {
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'vocals.wav'), 'x');
  return { vocals: { path: join(outDir, 'vocals.wav'), size: 1, duration: 1, format: 'wav' } };
}

describe('processing worker on a GPU', () => {
  it('stores stems from a run that fell back under their own key, not the full-quality one', async () => {
    const fallbacks = [{ from: 'cuda', to: 'cpu', fromSegment: 7.8, toSegment: 7.8, reason: 'out of memory: CUDA out of memory' }];
    const { perform, registered } = setup(async (_op, params) => ({
      model: 'htdemucs', device: 'cpu', fallbacks, stems: stemsIn(String(params.outDir)),
    }));
    const args: SeparateArgs = { trackId: 't1', model: 'htdemucs' };
    const outcome = await perform(args);
    const degradedKey = separationKey(args, fallbacks);
    expect(degradedKey).not.toBe(separationKey(args));
    expect(registered.map((s) => s.optionsKey)).toEqual([degradedKey]);
    expect(registered[0]!.path).toContain(`htdemucs-${degradedKey}`);
    expect(outcome.ok?.degraded).toBe(true);
  });

  it('a full-quality run keeps the settings key; exact precision has its own', async () => {
    const { perform, registered } = setup(async (_op, params) => ({ model: 'htdemucs', device: 'cuda', fallbacks: [], stems: stemsIn(String(params.outDir)) }));
    await perform({ trackId: 't1', model: 'htdemucs' });
    expect(registered.map((s) => s.optionsKey)).toEqual([separationKey({ trackId: 't1', model: 'htdemucs' })]);
    expect(separationKey({ trackId: 't', model: 'htdemucs', precision: 'auto' })).toBe(separationKey({ trackId: 't', model: 'htdemucs' }));
    expect(separationKey({ trackId: 't', model: 'htdemucs', precision: 'exact' })).not.toBe(separationKey({ trackId: 't', model: 'htdemucs' }));
  });

  it('asks the GPU for its free memory and frees its slot when the job falls back to the CPU', async () => {
    let activeAfterFallback = -1;
    const state = setup(async (_op, params, progress) => {
      progress(0.1, 'separating on cuda: chunk 1/6');
      progress(0.05, 'out of memory; retrying on cpu');
      activeAfterFallback = state.gpu.active;
      return { model: 'htdemucs', device: 'cpu', fallbacks: [], stems: stemsIn(String(params.outDir)) };
    });
    await state.perform({ trackId: 't1', model: 'htdemucs' });
    expect(state.ops).toEqual(['gpu_memory', 'separate']);
    expect(activeAfterFallback).toBe(0);
    expect(state.gpu.active).toBe(0);
  });
});
