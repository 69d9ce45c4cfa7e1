/** `sfa run FOLDER`: the folder is imported as a stream (counts only), then the queues are worked. */
import { mkdirSync, writeFileSync } from 'node:fs';
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

describe('sfa run FOLDER', () => {
  it('imports the folder with counts only, then works the queues until idle; again, nothing new', async () => {
    const { ctx, dir, stdout } = await cliTestContext('sfa-cli-run-', cleanups);
    const engine = await ctx.engine({ runQueues: true });
    await call(engine, 'settings.set', { autoPipeline: false });
    const folder = join(dir, 'catalogue');
    mkdirSync(join(folder, 'a'), { recursive: true });
    for (let i = 0; i < 12; i++) writeSine(join(folder, i % 2 ? 'a' : '', `t${i}.wav`), 0.1, { freq: 200 + 10 * i });
    writeFileSync(join(folder, 'broken.wav'), 'not audio');

    expect(await commands.run!.run(ctx, { 'until-idle': true }, [folder])).toBe(0);
    const first = JSON.parse(stdout()) as { imported: Record<string, number>; ran: Record<string, number> };
    expect(first.imported).toEqual({ seen: 13, imported: 12, skipped: 0, failed: 1 });
    expect((await call(engine, 'library.list', {})).tracks).toHaveLength(12);

    const before = stdout().length;
    expect(await commands.run!.run(ctx, { 'until-idle': true }, [folder])).toBe(0);
    const again = JSON.parse(stdout().slice(before)) as { imported: Record<string, number> };
    expect(again.imported).toEqual({ seen: 13, imported: 0, skipped: 12, failed: 1 });
  }, 120_000);
});
