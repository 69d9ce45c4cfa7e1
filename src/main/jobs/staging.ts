import type { JobsContext } from './context';
import { DEFAULTS } from './types';

export const STAGE_BATCH = 500;

/** Move due scheduled/retryable jobs to available (one transaction); returns how many. */
export function stageDue(ctx: JobsContext, now: number, limit = STAGE_BATCH): number {
  const rows = ctx.store.dueToStage(now, limit);
  if (rows.length === 0) return 0;
  ctx.uow.tx(() => {
    for (const row of rows) {
      const updated = ctx.store.makeAvailable(row.id, row.state);
      if (updated) ctx.uow.record(updated, row.state);
    }
  });
  return rows.length;
}

/**
 * The live runner's staging: a timer armed at the next due time (not a fixed poll), batches of
 * STAGE_BATCH one after another, and a cheap check of `PRAGMA data_version` so jobs that another
 * process (the CLI) committed start within externalPollMs.
 */
export class Stager {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private pollTimer: ReturnType<typeof setInterval> | undefined;
  private lastDataVersion = -1;

  constructor(
    private readonly ctx: JobsContext,
    /** Another process committed: every queue may have new jobs. */
    private readonly wakeAll: () => void,
  ) {}

  /** Stage what is due now and arm the timer for the rest. */
  start(): void {
    this.stage();
    this.arm(true);
  }

  /** Begin watching for other processes' commits. */
  startPolling(): void {
    this.lastDataVersion = this.ctx.store.dataVersion();
    this.pollTimer = setInterval(() => this.pollExternal(), this.ctx.timings.externalPollMs);
    this.pollTimer.unref?.();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.timer = this.pollTimer = undefined;
  }

  /** Arm the timer at the next due time; unless `force`, keep a timer that fires early enough. */
  arm(force: boolean): void {
    const { ctx } = this;
    if (!ctx.lifecycle.started || ctx.lifecycle.stopping) return;
    const next = ctx.store.nextDueAt();
    if (next === null) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      return;
    }
    if (!force && this.timer && next >= this.timerAt) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = Math.min(Math.max(0, next - ctx.clock.now()), DEFAULTS.maxStageDelayMs);
    this.timerAt = next;
    this.timer = setTimeout(() => this.onTimer(), delay);
  }

  private stage(): void {
    // A full batch: more may be due; take the next batch after the event loop had a turn.
    if (stageDue(this.ctx, this.ctx.clock.now()) === STAGE_BATCH) setImmediate(() => this.onTimer());
  }

  private onTimer(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (!this.ctx.lifecycle.started || this.ctx.lifecycle.stopping) return;
    try {
      this.stage();
    } catch (error) {
      this.ctx.logger.warn('staging failed; retrying', error);
    }
    this.arm(true);
  }

  /** Another connection (the CLI) committed: its inserts may be due now. */
  private pollExternal(): void {
    try {
      const v = this.ctx.store.dataVersion();
      if (v === this.lastDataVersion) return;
      this.lastDataVersion = v;
      this.stage();
      this.arm(true);
      this.wakeAll();
    } catch (error) {
      this.ctx.logger.warn('external poll failed', error);
    }
  }
}
