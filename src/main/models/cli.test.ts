/** `sfa models` as a CommandSpec on a temporary home (the built-CLI process tests live in cli.test.ts). */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { commands } from '../cli/commands';
import { UsageError } from '../cli/context';
import { cliTestContext } from '../cli/test/context';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const context = () => cliTestContext('sfa-models-cli-', cleanups);

describe('sfa models', () => {
  const spec = commands.models!;

  it('lists the catalogue with sizes as JSON', async () => {
    const { ctx, stdout } = await context();
    expect(await spec.run(ctx, {}, [])).toBe(0);
    const out = JSON.parse(stdout()) as { dir: string; models: { name: string; installed: boolean; sizeMb: number }[] };
    expect(out.dir).toBe(join(ctx.home, 'models'));
    expect(out.models.find((m) => m.name === 'htdemucs')).toMatchObject({ installed: false, sizeMb: 80 });
    expect(out.models.find((m) => m.name === 'dsp')).toMatchObject({ installed: true });
  });

  it('download offline fails with MODEL_NOT_INSTALLED; bad usage is a UsageError', async () => {
    const { ctx } = await context();
    await expect(spec.run(ctx, {}, ['download', 'htdemucs'])).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED' });
    await expect(spec.run(ctx, {}, ['rm', 'htdemucs'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(spec.run(ctx, {}, ['download'])).rejects.toBeInstanceOf(UsageError);
    await expect(spec.run(ctx, {}, ['frob'])).rejects.toBeInstanceOf(UsageError);
    await expect(spec.run(ctx, { name: 'x' }, ['list'])).rejects.toBeInstanceOf(UsageError);
  });
});
