/**
 * Once per `vitest run`: the sidecars' CPU measurements (the bf16 self-measurement, OpenVINO's
 * verdicts) go to this run's own folder, not the user's ~/.cache/sfa, where a verdict one run
 * measured under load would steer every later run on the machine. The test workers are forked
 * after this and inherit the variable, and so do the sidecars they start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const folder = mkdtempSync(join(tmpdir(), 'sfa-test-measurements-'));
  process.env.SFA_PRECISION_CACHE = folder;
  return () => rmSync(folder, { recursive: true, force: true });
}
