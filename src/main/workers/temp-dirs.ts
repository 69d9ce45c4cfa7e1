import { readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A job attempt's private temporary folder beside `finalDir`, named per attempt
 * (`<final>.job<id>.a<attempt>.tmp`), after removing what earlier attempts of the same job left.
 *
 * Per attempt, because an attempt interrupted by an app crash can leave an orphaned sidecar that
 * still writes for a few seconds (it stops when it sees its stdin close): the re-run must never
 * share a folder with it.
 */
export function attemptTempDir(finalDir: string, jobId: number, attempt: number): string {
  const parent = dirname(finalDir);
  const prefix = `${basename(finalDir)}.job${jobId}.`;
  let names: string[] = [];
  try {
    names = readdirSync(parent);
  } catch {
    // no folder yet: nothing to sweep
  }
  for (const name of names) if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(join(parent, name), { recursive: true, force: true });
  return `${finalDir}.job${jobId}.a${attempt}.tmp`;
}
