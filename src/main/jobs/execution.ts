import type { JobsContext, QueueState } from './context';
import type { AttemptResult } from './outcome';
import { Throttle } from './progress';
import { toJob, type JobRow } from './store';
import type { CompletionTx, Job, JobProgressEvent } from './types';

type Progress = { percent: number; message: string | null };

/** One attempt of one job in this process, from its claim until its slot is freed. */
export interface Execution {
  /** The row as claimed (fenced transitions build on it). */
  row: JobRow;
  job: Job;
  lastMessage: string | null;
  token: string;
  queue: QueueState | undefined;
  controller: AbortController;
  startedAt: number;
  /** The DB transition of this attempt happened (or was given up): later returns are ignored. */
  finalized: boolean;
  settled: boolean;
  slotHeld: boolean;
  hooks: ((tx: CompletionTx) => void)[];
  timeoutTimer?: ReturnType<typeof setTimeout>;
  graceTimer?: ReturnType<typeof setTimeout>;
  emitThrottle: Throttle<Progress>;
  writeThrottle: Throttle<Progress>;
  done: Promise<AttemptResult>;
  resolveDone: (r: AttemptResult) => void;
}

/** A claimed row becomes an execution holding a slot of its queue. */
export function createExecution(ctx: JobsContext, row: JobRow): Execution {
  const job = toJob(row);
  let resolveDone!: (r: AttemptResult) => void;
  const now = () => ctx.clock.now();
  const exec: Execution = {
    row,
    job,
    lastMessage: null,
    token: job.attemptedBy ?? '',
    queue: ctx.queues.get(job.queue),
    controller: new AbortController(),
    startedAt: now(),
    finalized: false,
    settled: false,
    slotHeld: true,
    hooks: [],
    emitThrottle: new Throttle(ctx.timings.progressEmitIntervalMs, now, (p) => emitProgress(ctx, exec, p)),
    writeThrottle: new Throttle(ctx.timings.progressWriteIntervalMs, now, (p) => writeProgress(ctx, exec, p)),
    done: new Promise<AttemptResult>((r) => (resolveDone = r)),
    resolveDone: (r) => resolveDone(r),
  };
  return exec;
}

/** The attempt's end is decided: nothing it reports from now on counts. */
export function clearExecTimers(exec: Execution): void {
  if (exec.timeoutTimer) clearTimeout(exec.timeoutTimer);
  exec.timeoutTimer = undefined;
  exec.emitThrottle.cancel();
  exec.writeThrottle.cancel();
}

/** ms from due (scheduled_at) to start. */
export function queueTime(job: Job): number {
  return Math.max(0, (job.attemptedAt ?? job.scheduledAt) - job.scheduledAt);
}

/** ctx.progress(percent, message) of perform: throttled events and throttled row snapshots. */
export function reportProgress(exec: Execution, percent: number, message?: string): void {
  if (exec.finalized || !Number.isFinite(percent)) return;
  const p = { percent: Math.min(100, Math.max(0, percent)), message: message ?? null };
  exec.lastMessage = p.message;
  const final = p.percent >= 100;
  exec.emitThrottle.push(p, final);
  exec.writeThrottle.push(p, final);
}

function emitProgress(ctx: JobsContext, exec: Execution, p: Progress): void {
  if (exec.finalized) return;
  const event: JobProgressEvent = {
    id: exec.job.id,
    queue: exec.job.queue,
    worker: exec.job.worker,
    percent: p.percent,
    message: p.message,
    at: ctx.clock.now(),
  };
  ctx.emitter.emit('job:progress', event);
  ctx.emitter.emit(`jobs:${exec.job.id}`, { type: 'progress', ...event });
}

function writeProgress(ctx: JobsContext, exec: Execution, p: Progress): void {
  if (exec.finalized) return;
  try {
    ctx.store.progress(exec.job.id, exec.token, p.percent, p.message, ctx.clock.now());
  } catch (error) {
    ctx.logger.warn(`job ${exec.job.id}: progress snapshot not written`, error);
  }
}
