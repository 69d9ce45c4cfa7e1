import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import { bundleForNode } from './test/bundle';
import { tempDb } from './test/helpers';
import { spawnNode } from './test/spawn';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * "Completed exactly once" means: every job ends `completed` once, and the side effect committed
 * with its completion (an INSERT in the same transaction) exists exactly once per job, however
 * many times the job was *executed* (executions are at-least-once and are counted separately).
 * The child is SIGKILLed at random moments, including mid-transaction, then restarted.
 */
describe('crash safety (SIGKILL)', () => {
  it('completes every job exactly once across random kills, none stuck, integrity ok', async () => {
    const script = await bundleForNode(join(here, 'test/crash-child.ts'));
    const t = tempDb();
    t.db.close();
    const parents = 400;
    let kills = 0;
    let rescuedTotal = 0;
    try {
      for (let round = 0; round < 6; round++) {
        const child = spawnNode(script, [t.file, String(parents)]);
        const ready = await child.waitLine(/^READY/);
        rescuedTotal += Number(ready.split(' ')[1]);
        await new Promise((r) => setTimeout(r, 10 + Math.floor(Math.random() * 140)));
        if (child.proc.exitCode === null) {
          child.proc.kill('SIGKILL');
          kills++;
        }
        await child.exited;
      }
      const last = spawnNode(script, [t.file, String(parents)]);
      rescuedTotal += Number((await last.waitLine(/^READY/)).split(' ')[1]);
      await last.waitLine(/^DONE/, 40_000);
      expect((await last.exited).code).toBe(0);

      const db = openDatabase(t.file);
      try {
        const byState = db.prepare('SELECT state, count(*) AS n FROM jobs GROUP BY state').all();
        expect(byState).toEqual([{ state: 'completed', n: parents * 2 }]);
        // Exactly one side effect per job, and no side effect for a job that does not exist.
        const perJob = db
          .prepare(`SELECT j.id, count(s.job_id) AS n FROM jobs j LEFT JOIN side_effects s ON s.job_id = j.id GROUP BY j.id HAVING n <> 1`)
          .all();
        expect(perJob).toEqual([]);
        expect(db.prepare('SELECT count(*) AS n FROM side_effects').get()).toEqual({ n: parents * 2 });
        // Each parent chained exactly one child.
        expect(db.prepare(`SELECT count(DISTINCT json_extract(args, '$.n')) AS n FROM jobs WHERE worker = 'crash-child'`).get()).toEqual({
          n: parents,
        });
        expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(db.pragma('foreign_key_check')).toEqual([]);
        const executions = (db.prepare('SELECT count(*) AS n FROM executions').get() as { n: number }).n;
        // At-least-once execution: kills interrupted running jobs, which ran again.
        expect(executions).toBeGreaterThanOrEqual(parents * 2);
        console.info(`crash test: ${kills} kills, ${rescuedTotal} rescued jobs, ${executions} executions for ${parents * 2} jobs`);
      } finally {
        db.close();
      }
      expect(kills).toBeGreaterThanOrEqual(3);
    } finally {
      t.close();
      rmSync(dirname(script), { recursive: true, force: true });
    }
  }, 60_000);
});
