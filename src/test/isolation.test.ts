/** The suite's sidecars keep their CPU measurements out of the user's cache (src/test/global-setup.ts). */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';

it('the CPU measurements of this run go to its own folder, not ~/.cache/sfa', () => {
  expect(process.env.SFA_PRECISION_CACHE?.startsWith(join(tmpdir(), 'sfa-test-measurements-'))).toBe(true);
});
