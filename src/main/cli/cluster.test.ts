/** `sfa cluster` and `--cluster` in-process, over the stand-in driver (src/main/cluster/test/fake-driver.mjs). */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SAMPLE_ANALYSIS } from '../../test/analysis';
import { commands } from './commands';
import { cliTestContext } from './test/context';

const cleanups: (() => Promise<void> | void)[] = [];
const saved = { python: process.env.SFA_PYTHON, address: process.env.SFA_RAY_ADDRESS };
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
  for (const [key, value] of [['SFA_PYTHON', saved.python], ['SFA_RAY_ADDRESS', saved.address]] as const) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function context() {
  const c = await cliTestContext('sfa-cli-cluster-', cleanups);
  process.env.SFA_PYTHON = join(__dirname, '..', 'cluster', 'test', 'fake-driver.mjs');
  process.env.FAKE_DRIVER_PLAN = join(c.dir, 'plan.json');
  delete process.env.SFA_RAY_ADDRESS;
  writeFileSync(join(c.dir, 'plan.json'), JSON.stringify({ analysis: SAMPLE_ANALYSIS }));
  return c;
}

describe('sfa cluster', () => {
  it('refuses a bad --cluster before opening the engine (CLUSTER_ADDRESS, exit 2)', async () => {
    const { ctx } = await context();
    const engine = vi.spyOn(ctx, 'engine');
    for (const command of ['run', 'serve'] as const) {
      await expect(commands[command]!.run(ctx, { cluster: 'http://head:10001', 'until-idle': true }, [])).rejects.toMatchObject({ code: 'CLUSTER_ADDRESS' });
    }
    expect(engine).not.toHaveBeenCalled();
    expect(ctx.out.fail({ code: 'CLUSTER_ADDRESS', message: 'x' })).toBe(2);
  });

  it('status without an address says work runs here; set stores the address, status shows nodes; off clears it', async () => {
    const { ctx, stdout } = await context();
    expect(await commands.cluster!.run(ctx, {}, ['status'])).toBe(0);
    expect(JSON.parse(stdout())).toMatchObject({ address: null, connected: false, nodes: [] });
    await expect(commands.cluster!.run(ctx, {}, ['set', 'ray://user@head:1'])).rejects.toMatchObject({ code: 'CLUSTER_ADDRESS' });

    const before = stdout().length;
    expect(await commands.cluster!.run(ctx, {}, ['set', 'ray://head.internal:10001'])).toBe(0);
    expect(JSON.parse(stdout().slice(before))).toMatchObject({ cluster: { address: 'ray://head.internal:10001', active: { source: 'setting' } } });

    const mark = stdout().length;
    expect(await commands.cluster!.run(ctx, {}, ['status'])).toBe(0);
    const status = JSON.parse(stdout().slice(mark)) as { connected: boolean; nodes: { ip: string; cpus: number }[]; suggested: unknown };
    expect(status.connected).toBe(true);
    expect(status.nodes.map((n) => [n.ip, n.cpus])).toEqual([['10.9.8.7', 4], ['10.9.8.6', 4]]);

    const end = stdout().length;
    expect(await commands.cluster!.run(ctx, {}, ['off'])).toBe(0);
    expect(JSON.parse(stdout().slice(end))).toMatchObject({ cluster: { address: null, active: null } });
  });
});
