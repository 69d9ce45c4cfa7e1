/** The engine's setup module with a fake provisioner injected (no Python needed), and diagnostics text. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SetupProgress } from '../../shared/contract';
import { diagnosticsText } from '../system/diagnostics';
import { cancelledError } from '../../../scripts/provision/index.mjs';
import { createSetup, fakeProvisioner } from './index';

let home: string;
afterEach(() => rmSync(home, { recursive: true, force: true }));

describe('createSetup', () => {
  it('reports what is needed, runs the provisioner, streams progress and keeps a failure with next steps', async () => {
    home = mkdtempSync(join(tmpdir(), 'sfa-setup-'));
    const events: SetupProgress[] = [];
    const setup = createSetup({ home, modelsDir: join(home, 'models'), emit: (p) => events.push(p), provisioner: fakeProvisioner('fail'), source: 'app' });
    const before = setup.status();
    expect(before.state).toBe('needed');
    expect(before.envDir.startsWith(join(home, 'python'))).toBe(true);
    expect(before.downloads.map((d) => d.name).join(' ')).toMatch(/Python packages for (linux|windows|macos)-/);
    expect(setup.start().state).toBe('running');
    expect(setup.start().state).toBe('running'); // joins the run in progress
    await setup.running();
    const failed = setup.status();
    expect(failed.state).toBe('failed');
    expect(failed.error).toMatchObject({ step: 'packages', nextSteps: ['Check the internet connection and retry.'] });
    expect(events.some((e) => e.step === 'venv' && e.fraction === 1)).toBe(true);
    expect(events.at(-1)?.message).toMatch(/^Failed:/);
    setup.start();
    await setup.running();
    expect(events.at(-1)?.message).toBe('Setup complete');
  });
});

describe('createSetup stop (the app quitting)', () => {
  it('aborts the run in progress and waits for it; the run ends as stopped, not failed', async () => {
    home = mkdtempSync(join(tmpdir(), 'sfa-setup-stop-'));
    let signal: AbortSignal | undefined;
    const setup = createSetup({
      home,
      modelsDir: join(home, 'models'),
      emit: () => {},
      source: 'app',
      envRoot: join(home, 'envs'),
      provisioner: (options) =>
        new Promise((_, reject) => {
          signal = options.signal;
          options.signal!.addEventListener('abort', () => setTimeout(() => reject(cancelledError('packages')), 50));
        }),
    });
    expect(setup.start().state).toBe('running');
    expect(setup.status().envDir.startsWith(join(home, 'envs'))).toBe(true);
    await setup.stop();
    expect(signal?.aborted).toBe(true);
    expect(setup.running()).toBeNull();
    expect(setup.status()).toMatchObject({ state: 'needed', error: null });
  });
});

describe('diagnosticsText', () => {
  it('collects versions, doctor checks, setup, recent failures and the last log lines', async () => {
    home = mkdtempSync(join(tmpdir(), 'sfa-diag-'));
    const logFile = join(home, 'engine.log');
    writeFileSync(logFile, Array.from({ length: 80 }, (_, i) => `2026-01-01T00:00:00Z INFO line ${i}`).join('\n'));
    const text = await diagnosticsText({
      info: { version: '0.1.0', home, host: 'electron', canPassPaths: true },
      doctor: async () => ({ checks: [{ name: 'torch', ok: true, version: '2.13.0', detail: 'device: cuda: RTX 4090' }, { name: 'spotdl', ok: false, detail: 'not installed' }] }),
      recentFailures: () => [{ id: 7, worker: 'separate', state: 'discarded', attempt: 3, maxAttempts: 3, errors: [{ attempt: 3, at: '2026-01-01T00:00:00Z', error: 'CUDA out of memory', code: 'OOM' }] }] as never,
      logFile,
    });
    expect(text).toContain('app: 0.1.0 (host electron)');
    expect(text).toContain('ok   torch 2.13.0 — device: cuda: RTX 4090');
    expect(text).toContain('FAIL spotdl — not installed');
    expect(text).toContain('job 7 separate discarded attempt 3/3: 2026-01-01T00:00:00Z OOM CUDA out of memory');
    expect(text).toContain('line 79');
    expect(text).not.toContain('line 29\n');
  });
});
