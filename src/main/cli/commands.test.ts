/** CLI commands as CommandSpecs on a temporary home, in-process (the built-CLI process tests are in ../cli.test.ts). */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir, writeSine } from '../../test/fixtures';
import { createEngine, type Engine } from '../engine';
import { silentLogger } from '../log';
import { closedUrl } from '../models/test/helpers';
import { call } from './call';
import { commands } from './commands';
import type { CommandContext } from './context';
import { createOutput } from './output';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A context like the CLI's, whose model store cannot download (any model but the built-in dsp fails fast). */
async function context(): Promise<{ ctx: CommandContext; dir: string; stdout: () => string }> {
  const t = tempDir('sfa-cli-commands-');
  cleanups.push(t.cleanup);
  let engine: Engine | undefined;
  const baseUrl = await closedUrl();
  const ctx: CommandContext = {
    home: join(t.dir, 'home'),
    out: createOutput(true),
    engine: async (options = {}) =>
      (engine ??= await createEngine({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, runQueues: options.runQueues, models: { baseUrl, torchHubDir: null, hfHubDir: null, retries: 0 } })),
    close: async () => engine?.close(),
  };
  cleanups.push(() => ctx.close());
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true));
  return { ctx, dir: t.dir, stdout: () => chunks.join('') };
}

describe('sfa separate', () => {
  it('uses the stored default model and format when none is given', async () => {
    const { ctx, dir, stdout } = await context();
    await call(await ctx.engine({ runQueues: true }), 'settings.set', { defaultModel: 'dsp', format: 'flac' });
    const file = writeSine(join(dir, 'song.wav'), 1);
    expect(await commands.separate!.run(ctx, {}, [file])).toBe(0);
    const out = JSON.parse(stdout()) as { model: string; stems: Record<string, string> };
    expect(out.model).toBe('dsp');
    for (const path of Object.values(out.stems)) expect(path).toMatch(/\.flac$/);
  }, 180_000);

  it('leaves validation to the contract: a model name starting with - or . is rejected before any job', async () => {
    const { ctx, dir } = await context();
    const file = writeSine(join(dir, 'song.wav'), 1);
    for (const model of ['-x', '.hidden']) {
      await expect(commands.separate!.run(ctx, { model }, [file])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    }
    const { jobs } = await call(await ctx.engine(), 'jobs.list', {});
    expect(jobs).toEqual([]);
  });
});
