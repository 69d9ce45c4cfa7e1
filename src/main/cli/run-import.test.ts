/** `sfa run FOLDER`: the folder is imported as a stream (counts only), then the queues are worked. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeSine } from '../../test/fixtures';
import { call } from './call';
import { commands } from './commands';
import { createOutput } from './output';
import { progressLine } from './run-progress';
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

  it('streams a progress line per queue on stderr; Ctrl+C ends --until-idle with the summary, and nothing polls the closed library afterwards', async () => {
    const { ctx: jsonCtx, dir, stdout } = await cliTestContext('sfa-cli-run-stop-', cleanups);
    const ctx = { ...jsonCtx, out: createOutput(false) };
    const engine = await ctx.engine({ runQueues: true });
    await call(engine, 'settings.set', { defaultModel: 'dsp' });
    const folder = join(dir, 'catalogue');
    mkdirSync(folder, { recursive: true });
    for (let i = 0; i < 6; i++) writeSine(join(folder, `t${i}.wav`), 1.5, { freq: 300 + 20 * i });
    const stderr: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (stderr.push(String(chunk)), true));
    // Ctrl+C once the import is done and the first job runs: the queues are far from idle then
    const off = engine.events.subscribe((event, payload) => {
      if (event === 'job:changed' && (payload as { job: { state: string } }).job.state === 'executing') {
        off();
        setTimeout(() => process.emit('SIGINT'), 50);
      }
    });
    expect(await commands.run!.run(ctx, { 'until-idle': true, 'progress-every': '0.2' }, [folder])).toBe(0);
    expect(stdout()).toMatch(/^import: 6 files: 6 imported, 0 already in the library, 0 failed\nran: \d+ completed/);
    const lines = stderr.join('').split('\n').filter((l) => l.startsWith('progress  '));
    expect(lines.some((l) => l.includes('import done: 6 files: 6 imported') && /processing \d+ completed, \d+ running, \d+ waiting/.test(l))).toBe(true);
    // the queues' last line has every pipeline job: 6 separations and 6 analyses
    const counts = [...lines.at(-1)!.matchAll(/(processing|analysis) (\d+) completed, (\d+) running, (\d+) waiting, (\d+) failed, (\d+) cancelled/g)];
    expect(counts.map((m) => [m[1], m.slice(2).reduce((n, v) => n + Number(v), 0)])).toEqual([['processing', 6], ['analysis', 6]]);
    // the engine closes (as the CLI does after the summary); --until-idle's poll must not outlive it
    await ctx.close();
    await new Promise((r) => setTimeout(r, 600));
  }, 120_000);

  it('a progress line names the import and only the queues that have jobs', () => {
    const zero = { scheduled: 0, available: 0, executing: 0, retryable: 0, completed: 0, discarded: 0, cancelled: 0 };
    const queues = [
      { name: 'download', limit: 2, paused: false, running: 0, counts: zero },
      { name: 'processing', limit: 1, paused: false, running: 1, counts: { ...zero, completed: 3, executing: 1, scheduled: 5, retryable: 1, discarded: 2 } },
    ];
    expect(progressLine(queues, { seen: 10, imported: 9, skipped: 0, failed: 1, done: false })).toBe(
      'progress  import running: 10 files: 9 imported, 0 already in the library, 1 failed  |  processing 3 completed, 1 running, 6 waiting, 2 failed, 0 cancelled',
    );
    expect(progressLine([queues[0]!], null)).toBe('progress  no jobs');
  });
});
