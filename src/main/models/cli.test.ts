/** `sfa models` as a CommandSpec on a temporary home (the built-CLI process tests live in cli.test.ts). */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../../test/fixtures';
import { commands } from '../cli/commands';
import { UsageError, type CommandContext } from '../cli/context';
import { createOutput } from '../cli/output';
import { createEngine, type Engine } from '../engine';
import { silentLogger } from '../log';
import { closedUrl } from './test/helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function context(): Promise<{ ctx: CommandContext; stdout: () => string }> {
  const t = tempDir('sfa-models-cli-');
  cleanups.push(t.cleanup);
  let engine: Engine | undefined;
  const baseUrl = await closedUrl();
  const ctx: CommandContext = {
    home: join(t.dir, 'home'),
    out: createOutput(true),
    engine: async () => (engine ??= await createEngine({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, models: { baseUrl, torchHubDir: null, hfHubDir: null, retries: 0 } })),
    close: async () => engine?.close(),
  };
  cleanups.push(() => ctx.close());
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true));
  return { ctx, stdout: () => chunks.join('') };
}

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
