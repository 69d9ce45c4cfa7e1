import { describe, expect, it } from 'vitest';
import { createScheduler, defineWorker, type Scheduler } from '../jobs';
import { cleanedAfterEach, fakeClock, sleep } from '../jobs/test/helpers';
import { waitIdle } from './run-now';

const cleanup = cleanedAfterEach();

const noop = defineWorker({ name: 'noop', queue: 'analysis', perform: () => undefined });

function manual(clock?: ReturnType<typeof fakeClock>) {
  return cleanup.scheduler(createScheduler({ db: cleanup.db().db, queues: { analysis: 1 }, workers: [noop], testing: 'manual', clock }));
}

/** 'idle' when waitIdle resolved within `ms`, 'busy' when it was still polling. */
async function settlesWithin(s: Scheduler, ms: number): Promise<'idle' | 'busy'> {
  return Promise.race([waitIdle(s, 10).then(() => 'idle' as const), sleep(ms).then(() => 'busy' as const)]);
}

describe('waitIdle / Scheduler.isIdle', () => {
  it('is idle with no jobs, busy with an available job, idle again once it ran', async () => {
    const s = manual();
    expect(await settlesWithin(s, 200)).toBe('idle');
    await s.insert(noop, {});
    expect(s.isIdle()).toBe(false);
    expect(await settlesWithin(s, 100)).toBe('busy');
    await s.drainQueue({ queue: 'analysis' });
    expect(await settlesWithin(s, 200)).toBe('idle');
  });

  it('does not count a job scheduled later, counts it once due, and never counts a job waiting on dependencies', async () => {
    const clock = fakeClock();
    const s = manual(clock);
    const later = (await s.insert(noop, {}, { scheduleIn: 60 })).job;
    await s.insert(noop, {}, { dependsOn: [later.id] });
    expect(s.isIdle()).toBe(true);
    clock.advance(61_000);
    expect(s.isIdle()).toBe(false);
  });

  it('sees a due job however many newer jobs are scheduled later (the old poll read only the newest 1,000)', async () => {
    const s = manual();
    await s.insert(noop, {}, { scheduledAt: Date.now() + 30 });
    for (let i = 0; i < 1000; i++) await s.insert(noop, {}, { scheduleIn: 3600 });
    await sleep(50);
    expect(await settlesWithin(s, 150)).toBe('busy');
  });

  it('resolves once the scheduler stopped, whatever is queued', async () => {
    const s = manual();
    await s.insert(noop, {});
    const idle = waitIdle(s, 10);
    await s.stop({ graceMs: 0 });
    await expect(idle).resolves.toBeUndefined();
  });
});
