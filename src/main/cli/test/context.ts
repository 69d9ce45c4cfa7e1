/** Tests only: a CommandContext like the CLI's on a temporary home, for running CommandSpecs in-process. */
import { join } from 'node:path';
import { vi } from 'vitest';
import { tempDir } from '../../../test/fixtures';
import { createEngine, type Engine } from '../../engine';
import { silentLogger } from '../../log';
import { closedUrl } from '../../models/test/helpers';
import type { CommandContext } from '../context';
import { createOutput } from '../output';

/**
 * The context, its temporary folder and what was printed on stdout. Its model store cannot
 * download (any model but the built-in dsp fails fast). Cleanups go to `cleanups`, run by the
 * caller's afterEach (which also restores the stdout spy).
 */
export async function cliTestContext(prefix: string, cleanups: (() => Promise<void> | void)[]): Promise<{ ctx: CommandContext; dir: string; stdout: () => string }> {
  const t = tempDir(prefix);
  cleanups.push(t.cleanup);
  let engine: Engine | undefined;
  const baseUrl = await closedUrl();
  const ctx: CommandContext = {
    home: join(t.dir, 'home'),
    out: createOutput(true),
    engine: async (options = {}) =>
      (engine ??= await createEngine({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, runQueues: options.runQueues, cluster: { address: options.cluster ?? null }, models: { baseUrl, torchHubDir: null, hfHubDir: null, retries: 0 } })),
    close: async () => engine?.close(),
  };
  cleanups.push(() => ctx.close());
  const chunks: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (chunks.push(String(chunk)), true));
  return { ctx, dir: t.dir, stdout: () => chunks.join('') };
}
