/** CLI commands as CommandSpecs on a temporary home, in-process (the built-CLI process tests are in ../cli.test.ts). */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeSine } from '../../test/fixtures';
import { call } from './call';
import { commands } from './commands';
import { cliTestContext } from './test/context';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const context = () => cliTestContext('sfa-cli-commands-', cleanups);

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
