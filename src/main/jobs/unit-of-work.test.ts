import { afterEach, describe, expect, it } from 'vitest';
import { TypedEmitter } from './events';
import { JobStore, type NewJobRow } from './store';
import { tempDb, type TempDb } from './test/helpers';
import type { Logger, SchedulerEvents } from './types';
import { UnitOfWork, type Changes } from './unit-of-work';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };
let open: TempDb | undefined;
afterEach(() => open?.close());

function setup() {
  open = tempDb();
  const store = new JobStore(open.db);
  const emitter = new TypedEmitter<SchedulerEvents>(quiet);
  const committed: Changes[] = [];
  const uow = new UnitOfWork(open.db, emitter, (c) => committed.push({ available: [...c.available], stagingChanged: c.stagingChanged }));
  const states: string[] = [];
  emitter.on('job:state', (e) => states.push(`${e.job.id}:${e.to}`));
  const insert = (state: NewJobRow['state'] = 'available') =>
    store.insert({
      state,
      queue: 'q',
      worker: 'w',
      args: '{}',
      meta: '{}',
      tags: '[]',
      errors: '[]',
      maxAttempts: 3,
      priority: 0,
      insertedAt: 0,
      scheduledAt: 0,
      cancelledAt: null,
      uniqueKey: null,
      trackId: null,
      depsPending: 0,
      onDependencyFailure: 'cancel',
    });
  return { store, uow, committed, states, insert };
}

describe('unit of work', () => {
  it('emits events and hands changes to the runner only after commit', () => {
    const { uow, committed, states, insert } = setup();
    const { changes } = uow.commit(() => {
      uow.record(insert('available'), null);
      uow.record(insert('scheduled'), null);
      expect(states).toEqual([]);
      expect(committed).toEqual([]);
    });
    expect(states).toEqual(['1:available', '2:scheduled']);
    expect(changes).toEqual({ available: [{ id: 1, queue: 'q' }], stagingChanged: true });
    expect(committed).toEqual([changes]);
  });

  it('a rolled-back savepoint drops exactly its own records; the rest of the transaction commits', () => {
    const { store, uow, committed, states, insert } = setup();
    let dropped = 0;
    let kept = 0;
    const { changes } = uow.commit(() => {
      uow.record(insert(), null);
      expect(() =>
        uow.savepoint(() => {
          const row = insert();
          dropped = row.id;
          uow.record(row, null);
          uow.record(insert('scheduled'), null);
          throw new Error('hook failed');
        }),
      ).toThrow('hook failed');
      uow.savepoint(() => {
        const row = insert('retryable');
        kept = row.id;
        uow.record({ ...row, state: 'available' }, 'retryable');
      });
    });
    expect(store.get(dropped)?.state).not.toBe('available'); // rolled back in the database too
    expect(states).toEqual(['1:available', `${kept}:available`]);
    expect(changes).toEqual({
      available: [
        { id: 1, queue: 'q' },
        { id: kept, queue: 'q' },
      ],
      stagingChanged: false,
    });
    expect(committed).toHaveLength(1);
  });

  it('a failed transaction emits nothing and reports no changes', () => {
    const { store, uow, committed, states, insert } = setup();
    expect(() =>
      uow.tx(() => {
        uow.record(insert(), null);
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(store.list({ limit: 10 })).toEqual([]);
    expect(states).toEqual([]);
    expect(committed).toEqual([]);
    // The next transaction starts clean.
    uow.tx(() => uow.record(insert('scheduled'), null));
    expect(states).toHaveLength(1);
    expect(committed).toEqual([{ available: [], stagingChanged: true }]);
  });
});
