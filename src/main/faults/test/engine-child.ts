/**
 * A child process for the fault tests: the real engine (real SQLite, real sidecars, DSP
 * separation) working the queues of `home` until nothing is left, then exiting. Prints `READY`
 * once the scheduler runs and `DONE` when idle. The test SIGKILLs it at random moments.
 */
import { createEngine } from '../../engine';
import { silentLogger } from '../../log';

const home = process.argv[2]!;
const engine = await createEngine({
  home,
  host: 'cli',
  runQueues: true,
  logger: silentLogger,
  separation: { model: 'dsp' },
  queues: { download: 1, processing: 1, analysis: 1 },
});
process.stdout.write('READY\n');
await engine.api.handle('queues.waitIdle', { pollMs: 100 });
await engine.close();
process.stdout.write('DONE\n');
