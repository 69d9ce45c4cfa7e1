/**
 * Fault test: the app process SIGKILLed at random moments during separations and analyses, then
 * restarted, several times. Afterwards every job completed exactly once in the database sense
 * (one analysis row and one full stem set per track, no job left executing), no partial or
 * temporary file is registered, and the database passes `PRAGMA integrity_check`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir, writeSine } from '../../test/fixtures';
import { createEngine } from '../engine';
import { bundleForNode } from '../jobs/test/bundle';
import { silentLogger } from '../log';
import { isCompleteWav, seeded, sleep, spawnNode } from './test/helpers';

const here = dirname(fileURLToPath(import.meta.url));

function childrenOf(pid: number): number[] {
  return spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
const figures = { cases: 0, crashesSurvived: 0, jobsLost: 0, duplicates: 0, executions: 0, jobs: 0 };

afterAll(() => {
  console.log(
    `FAULTS file=app-kill cases=${figures.cases} crashes_survived=${figures.crashesSurvived} jobs=${figures.jobs} executions=${figures.executions} jobs_lost=${figures.jobsLost} duplicates=${figures.duplicates}`,
  );
});

describe('app killed with SIGKILL during separations and analyses', () => {
  it('resumes the queue after 3-5 random kills: every job completed once, no partial file registered, integrity ok', async () => {
    const seed = Number(process.env.SFA_FAULT_SEED ?? Date.now() % 1_000_000);
    const random = seeded(seed);
    const t = tempDir('sfa-fault-kill-');
    const home = join(t.dir, 'home');
    const script = await bundleForNode(join(here, 'test/engine-child.ts'));
    try {
      // A queue of short generated WAVs, each with separate(dsp) -> analyze.
      let tracks = 0;
      const addTracks = async (n: number) => {
        const files = Array.from({ length: n }, (_, i) => tracks + i).map((i) => writeSine(join(t.dir, `song-${i}.wav`), 2 + (i % 4) * 0.5, { freq: 150 + 70 * i }));
        const setup = await createEngine({ home, host: 'cli', logger: silentLogger, separation: { model: 'dsp' } });
        const added = await setup.api.handle('library.add', { inputs: files, steps: ['separate', 'analyze'] });
        expect(added).toMatchObject({ ok: true });
        await setup.close();
        tracks += n;
      };
      await addTracks(4);

      const killsWanted = 3 + Math.floor(random() * 3);
      const db = new Database(join(home, 'library.sqlite'));
      const count = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
      let kills = 0;
      let orphanSeconds = 0;
      try {
        for (let round = 0; round < 12 && kills < killsWanted; round++) {
          const child = spawnNode(script, [home]);
          await child.waitLine(/^READY/);
          const completedAtStart = count(`SELECT count(*) AS n FROM jobs WHERE state = 'completed'`);
          // Kill while work is in flight: a job executing and (after the first round) some progress
          // made since the restart, so the run moves forward; never while a job runs its last
          // attempt (the scheduler counts a rescued attempt, so that kill would discard it by design).
          const inFlight = () => {
            const executing = db.prepare(`SELECT attempt, max_attempts FROM jobs WHERE state = 'executing'`).all() as { attempt: number; max_attempts: number }[];
            const progressed = round === 0 || count(`SELECT count(*) AS n FROM jobs WHERE state = 'completed'`) > completedAtStart;
            return executing.length > 0 && progressed && executing.every((j) => j.attempt < j.max_attempts);
          };
          // The check and the kill happen under the database's write lock, held until the app is
          // gone: no job can start (and take its last attempt) in between. The app waits on the
          // lock meanwhile, as on any other writer; a kill inside its own transaction is untested.
          let sidecars: number[] = [];
          const killIfInFlight = async (): Promise<boolean> => {
            db.exec('BEGIN IMMEDIATE');
            try {
              if (child.proc.exitCode !== null || !inFlight()) return false;
              sidecars = childrenOf(child.proc.pid!);
              child.proc.kill('SIGKILL');
              await child.exited;
              return true;
            } finally {
              db.exec('ROLLBACK');
            }
          };
          let killed = false;
          const until = Date.now() + 60_000;
          while (!killed && child.proc.exitCode === null && Date.now() < until) {
            await sleep(50);
            if (!inFlight()) continue;
            // A random moment inside the work.
            await sleep(Math.floor(random() * 1200));
            killed = await killIfInFlight();
          }
          if (killed) {
            kills++;
            // The killed app's sidecars die with it (no orphan keeps writing stems).
            const until = Date.now() + 5000;
            while (sidecars.some(alive) && Date.now() < until) await sleep(50);
            orphanSeconds = Math.max(orphanSeconds, (5000 - (until - Date.now())) / 1000);
            expect(sidecars.filter(alive), 'orphaned sidecars').toEqual([]);
          }
          await child.exited;
          // The queue ran dry before a kill landed (fast jobs, slow polls): top it up.
          if (!killed && kills < killsWanted) await addTracks(1);
        }
        // The last run works the rest of the queue and exits when idle.
        const last = spawnNode(script, [home]);
        await last.waitLine(/^DONE/, 180_000);
        expect((await last.exited).code).toBe(0);
      } finally {
        db.close();
      }

      const check = new Database(join(home, 'library.sqlite'));
      try {
        expect(check.pragma('integrity_check', { simple: true })).toBe('ok');
        expect(check.pragma('foreign_key_check')).toEqual([]);
        const states = check.prepare('SELECT worker, state, count(*) AS n FROM jobs GROUP BY worker, state ORDER BY worker').all();
        expect(states).toEqual([
          { worker: 'analyze', state: 'completed', n: tracks },
          { worker: 'separate', state: 'completed', n: tracks },
        ]);
        // One analysis row per track, written by the job that completed.
        const analyses = check.prepare('SELECT track_id, count(*) AS n FROM analysis_results GROUP BY track_id').all() as { n: number }[];
        expect(analyses).toHaveLength(tracks);
        const dupAnalyses = analyses.filter((a) => a.n !== 1).length;
        // One full stem set per track, registered by the completing job, every file complete.
        const stems = check.prepare('SELECT s.track_id, s.stem, s.path, s.size, s.job_id, j.state FROM stems s LEFT JOIN jobs j ON j.id = s.job_id').all() as {
          track_id: string;
          stem: string;
          path: string;
          size: number;
          job_id: number;
          state: string;
        }[];
        expect(stems).toHaveLength(tracks * 4);
        for (const s of stems) {
          expect(s.state).toBe('completed');
          expect(s.path).not.toMatch(/\.tmp[/\\]|\.part$/);
          expect(existsSync(s.path)).toBe(true);
          expect(statSync(s.path).size).toBe(s.size);
          expect(isCompleteWav(s.path), s.path).toBe(true);
        }
        // Nothing half-written left in the stem folders either (killed attempts' temp folders are swept).
        for (const track of readdirSync(join(home, 'media', 'stems'))) {
          expect(readdirSync(join(home, 'media', 'stems', track)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
        }
        const executions = (check.prepare('SELECT sum(attempt) AS n FROM jobs').get() as { n: number }).n;
        figures.cases += 1;
        figures.crashesSurvived += kills;
        figures.jobs += tracks * 2;
        figures.executions += executions;
        figures.duplicates += dupAnalyses;
        figures.jobsLost += tracks * 2 - (check.prepare(`SELECT count(*) AS n FROM jobs WHERE state = 'completed'`).get() as { n: number }).n;
        console.info(`app-kill: seed ${seed}, ${kills} kills of ${killsWanted} wanted, ${executions} attempts for ${tracks * 2} jobs, orphaned sidecars gone within ${orphanSeconds.toFixed(2)} s`);
        expect(dupAnalyses).toBe(0);
      } finally {
        check.close();
      }
      expect(kills).toBe(killsWanted);
    } finally {
      t.cleanup();
      rmSync(dirname(script), { recursive: true, force: true });
    }
  }, 360_000);
});
