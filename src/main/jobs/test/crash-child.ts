/**
 * Child process of crash.test.ts (bundled with rolldown, run with plain node). Runs a workload of
 * short jobs whose side effect is an INSERT into side_effects committed by the completion
 * transaction (ctx.onComplete); each parent job also chains a child job (`then`). The parent test
 * SIGKILLs this process at random moments and restarts it.
 * argv: <db file> <number of parent jobs>
 */
import { openDatabase } from '../../db/connection';
import { migrate } from '../../db/migrate';
import { migrations } from '../../db/migrations';
import { createScheduler, defineWorker } from '../index';

const [file, countArg] = process.argv.slice(2);
const db = openDatabase(file!);
migrate(db, migrations);
db.exec(`CREATE TABLE IF NOT EXISTS side_effects (job_id INTEGER NOT NULL, kind TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS executions (job_id INTEGER NOT NULL, attempt INTEGER NOT NULL)`);
const recordSideEffect = db.prepare('INSERT INTO side_effects (job_id, kind) VALUES (?, ?)');
const recordExecution = db.prepare('INSERT INTO executions (job_id, attempt) VALUES (?, ?)');

const work = async (ms: number) => new Promise((r) => setTimeout(r, ms));

const child = defineWorker<{ n: number }>({
  name: 'crash-child',
  queue: 'processing',
  maxAttempts: 50,
  perform: async (job, ctx) => {
    recordExecution.run(job.id, job.attempt); // at-least-once: may repeat after a kill
    await work(1 + Math.floor(Math.random() * 4));
    ctx.onComplete(() => recordSideEffect.run(job.id, 'child'));
  },
});

const parent = defineWorker<{ n: number }>({
  name: 'crash-parent',
  queue: 'download',
  maxAttempts: 50,
  perform: async (job, ctx) => {
    recordExecution.run(job.id, job.attempt);
    await work(1 + Math.floor(Math.random() * 4));
    ctx.onComplete(() => recordSideEffect.run(job.id, 'parent'));
    return { ok: job.args.n, then: [{ worker: child, args: { n: job.args.n } }] };
  },
});

const scheduler = createScheduler({ db, workers: [parent, child], queues: { download: 4, processing: 3, analysis: 1 } });
// Seed once; insertAll is one transaction, so a kill either leaves no jobs or all of them.
if ((db.prepare("SELECT count(*) AS n FROM jobs WHERE worker = 'crash-parent'").get() as { n: number }).n === 0) {
  scheduler.insertAllSync(Array.from({ length: Number(countArg) }, (_, n) => ({ worker: parent, args: { n } })));
}
const { rescued } = scheduler.start();
process.stdout.write(`READY ${rescued}\n`);

const check = setInterval(() => {
  const { totals } = scheduler.stats();
  if (totals.completed === Number(countArg) * 2) {
    clearInterval(check);
    void scheduler.stop({ graceMs: 100 }).then(() => {
      db.close();
      process.stdout.write('DONE\n');
      process.exit(0);
    });
  }
}, 20);
