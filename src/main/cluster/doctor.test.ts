/** `sfa doctor`'s Ray line where Ray is missing: it names every way to install it (the app, the CLI, a checkout). */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { venvPython } from '../../../scripts/provision/index.mjs';
import { tempDir } from '../../test/fixtures';
import { basePython } from '../provision/fixtures';
import type { ClusterBackend } from './backend';
import { rayCheck } from './doctor';

const saved = process.env.SFA_PYTHON;
let cleanup: () => void;

beforeAll(() => {
  const t = tempDir('sfa-doctor-ray-');
  cleanup = t.cleanup;
  // an environment without Ray
  const made = spawnSync(basePython, ['-m', 'venv', '--without-pip', join(t.dir, 'env')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  process.env.SFA_PYTHON = venvPython(join(t.dir, 'env'));
}, 60_000);
afterAll(() => {
  if (saved === undefined) delete process.env.SFA_PYTHON;
  else process.env.SFA_PYTHON = saved;
  cleanup();
});

const backend = (address: string | null) => ({ address: null, resolve: () => (address ? { address, source: 'setting' } : null) }) as unknown as ClusterBackend;

describe('rayCheck without Ray', () => {
  it('passes without an address, and says how to install it: Settings → Cluster, sfa cluster install, npm run setup -- --cluster', async () => {
    const check = await rayCheck(backend(null));
    expect(check).toMatchObject({ name: 'ray', ok: true });
    expect(check.detail).toMatch(/^not installed; no cluster address configured/);
    for (const way of ['Settings → Cluster', '`sfa cluster install`', '`npm run setup -- --cluster`']) expect(check.detail).toContain(way);
  });

  it('fails with an address set, naming the same ways', async () => {
    const check = await rayCheck(backend('ray://head.internal:10001'));
    expect(check).toMatchObject({ name: 'ray', ok: false });
    expect(check.detail).toMatch(/^not installed, but cluster address ray:\/\/head\.internal:10001 is configured \(setting\)/);
    for (const way of ['Settings → Cluster', '`sfa cluster install`', '`npm run setup -- --cluster`']) expect(check.detail).toContain(way);
  });
});
