import type { Db } from '../db/connection';
import type { TypedEmitter } from './events';
import type { JobState } from './states';
import { toJob, type JobRow } from './store';
import type { SchedulerEvents } from './types';

/** What a committed transaction changed that the runner acts on. */
export interface Changes {
  /** Jobs that became available (dispatch their queues; inline mode runs them). */
  available: { id: number; queue: string }[];
  /** A job became scheduled/retryable and not waiting: the staging timer may need to fire sooner. */
  stagingChanged: boolean;
}

/** What one transaction (or savepoint) has recorded so far; dropped whole on rollback. */
interface Frame extends Changes {
  events: (() => void)[];
}

const newFrame = (): Frame => ({ available: [], stagingChanged: false, events: [] });

/**
 * The unit of work: transactions and their outbox. State changes are recorded while the
 * transaction runs and acted on only after it commits (events to listeners, then the runner).
 * A rollback, of the transaction or of one savepoint in it, drops exactly what it recorded.
 */
export class UnitOfWork {
  /**
   * One cached transaction wrapper: `.immediate(fn)` at top level (BEGIN IMMEDIATE), a SAVEPOINT
   * when called inside a transaction. Creating db.transaction() per call costs more than the SQL.
   */
  private readonly runTx: ((fn: () => unknown) => unknown) & { immediate: (fn: () => unknown) => unknown };
  private frame: Frame | undefined;

  constructor(
    db: Db,
    private readonly emitter: TypedEmitter<SchedulerEvents>,
    private readonly onCommit: (changes: Changes) => void,
  ) {
    this.runTx = db.transaction((fn: () => unknown) => fn()) as unknown as UnitOfWork['runTx'];
  }

  /**
   * Run `fn` in an IMMEDIATE transaction (or as part of the one already open); after commit emit
   * its events and hand its changes to the runner. `singleStatement`: fn issues exactly one
   * write statement (autocommit is already atomic: skip BEGIN/COMMIT).
   */
  tx<T>(fn: () => T, singleStatement = false): T {
    return this.frame ? fn() : this.commit(fn, singleStatement).result;
  }

  /** A top-level transaction that also returns what it changed (never called inside another). */
  commit<T>(fn: () => T, singleStatement = false): { result: T; changes: Changes } {
    if (this.frame) throw new Error('UnitOfWork.commit inside a transaction');
    const frame = (this.frame = newFrame());
    let result: T;
    try {
      result = singleStatement ? fn() : (this.runTx.immediate(fn) as T);
    } finally {
      this.frame = undefined;
    }
    for (const emit of frame.events) emit();
    const changes = { available: frame.available, stagingChanged: frame.stagingChanged };
    this.onCommit(changes);
    return { result, changes };
  }

  /** Run `fn` in a SAVEPOINT of the open transaction; if it throws, only its records are dropped. */
  savepoint<T>(fn: () => T): T {
    const outer = this.frame;
    if (!outer) throw new Error('UnitOfWork.savepoint outside a transaction');
    const inner = (this.frame = newFrame());
    try {
      const result = this.runTx(fn) as T;
      outer.events.push(...inner.events);
      outer.available.push(...inner.available);
      outer.stagingChanged ||= inner.stagingChanged;
      return result;
    } finally {
      this.frame = outer;
    }
  }

  /** Record a state change: its event goes out after commit, its effect reaches the runner. */
  record(row: JobRow, from: JobState | null): void {
    const frame = this.frame ?? newFrame();
    if (row.state === 'available') frame.available.push({ id: row.id, queue: row.queue });
    else if ((row.state === 'scheduled' || row.state === 'retryable') && row.deps_pending === 0) frame.stagingChanged = true;
    if (from !== row.state) {
      // Listeners are looked up now: building the event (toJob parses JSON) only when someone listens.
      const hasState = this.emitter.hasListeners('job:state');
      const topic = `jobs:${row.id}` as const;
      const hasTopic = this.emitter.hasListeners(topic);
      if (hasState || hasTopic) {
        const event = { job: toJob(row), from, to: row.state };
        frame.events.push(() => {
          if (hasState) this.emitter.emit('job:state', event);
          if (hasTopic) this.emitter.emit(topic, { type: 'state', ...event });
        });
      }
    }
    if (frame !== this.frame) {
      // Outside a transaction (a claim is one autocommit statement): it has already committed.
      for (const emit of frame.events) emit();
      if (frame.available.length > 0 || frame.stagingChanged) this.onCommit(frame);
    }
  }
}
