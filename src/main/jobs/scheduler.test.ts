import { describe, expect, it } from 'vitest';
import { SfaError } from '../../shared/errors';
import {
  createScheduler,
  defaultBackoff,
  defineWorker,
  exponentialBackoff,
  type Job,
  type PerformResult,
  type SchedulerOptions,
} from './index';
import { cleanedAfterEach, fakeClock, sleep, until } from './test/helpers';

const cleanup = cleanedAfterEach();

function setup(options: Partial<SchedulerOptions> & Pick<SchedulerOptions, 'workers'>) {
  const t = cleanup.db();
  const s = cleanup.scheduler(createScheduler({ db: t.db, queues: { download: 3, processing: 2, analysis: 2 }, ...options }));
  return { s, db: t.db, t };
}

/** A worker whose perform returns whatever the job's args say, for state-machine tests. */
const scripted = defineWorker<{ ret?: string; seconds?: number }>({
  name: 'scripted',
  queue: 'processing',
  maxAttempts: 3,
  perform(job): PerformResult {
    switch (job.args.ret) {
      case 'void':
        return;
      case 'ok':
        return { ok: { value: 42 } };
      case 'error':
        return { error: 'boom' };
      case 'throw':
        throw new SfaError('NOT_AUDIO', 'not audio');
      case 'cancel':
        return { cancel: 'user does not want it' };
      case 'snooze':
        return { snooze: job.args.seconds ?? 30 };
      case 'discard':
        return { discard: 'bad input' };
      default:
        return { weird: true } as unknown as PerformResult;
    }
  },
});

describe('state machine (manual mode)', () => {
  it('maps every perform return value to its state', async () => {
    const clock = fakeClock();
    const { s } = setup({ workers: [scripted], testing: 'manual', clock, random: () => 0 });
    const ids: Record<string, number> = {};
    for (const ret of ['void', 'ok', 'error', 'throw', 'cancel', 'snooze', 'discard', 'weird']) {
      ids[ret] = (await s.insert(scripted, { ret })).job.id;
    }
    expect(s.getJob(ids.ok!)!.state).toBe('available');
    const counts = await s.drainQueue({ queue: 'processing' });
    expect(counts).toEqual({ success: 2, failure: 3, snoozed: 1, cancelled: 1, discarded: 1 });
    const get = (k: string) => s.getJob(ids[k]!)!;
    expect(get('void')).toMatchObject({ state: 'completed', attempt: 1, result: null });
    expect(get('void').completedAt).toBe(clock.now());
    expect(get('ok')).toMatchObject({ state: 'completed', result: { value: 42 }, progress: { percent: 100 } });
    expect(get('error')).toMatchObject({ state: 'retryable', attempt: 1 });
    expect(get('error').errors).toEqual([{ attempt: 1, at: new Date(clock.now()).toISOString(), error: 'boom', code: 'JOB_FAILED' }]);
    expect(get('throw')).toMatchObject({ state: 'retryable', errors: [{ attempt: 1, error: 'not audio', code: 'NOT_AUDIO' }] });
    expect(get('cancel')).toMatchObject({ state: 'cancelled', errors: [{ error: 'user does not want it', code: 'CANCELLED' }] });
    expect(get('cancel').cancelledAt).toBe(clock.now());
    expect(get('snooze')).toMatchObject({ state: 'scheduled', attempt: 1, maxAttempts: 4, errors: [] });
    expect(get('snooze').scheduledAt).toBe(clock.now() + 30_000);
    expect(get('discard')).toMatchObject({ state: 'discarded', errors: [{ error: 'bad input' }] });
    expect(get('discard').discardedAt).toBe(clock.now());
    expect(get('weird').state).toBe('retryable');
    expect(get('weird').errors[0]!.error).toMatch(/unrecognised/);
  });

  it('retries with the default backoff and discards after max_attempts', async () => {
    const clock = fakeClock();
    let r = 0.5; // rand(0..15) = floor(0.5 * 16) = 8
    const { s } = setup({ workers: [scripted], testing: 'manual', clock, random: () => r });
    const { job } = await s.insert(scripted, { ret: 'error' });
    const t0 = clock.now();
    await s.drainQueue({ queue: 'processing' });
    // attempt 1: 1 + 6 + 1 * 8 = 15 s
    expect(s.getJob(job.id)!.scheduledAt).toBe(t0 + 15_000);
    // Not due yet: a drain without withScheduled leaves it alone.
    expect(await s.drainQueue({ queue: 'processing' })).toMatchObject({ failure: 0 });
    clock.advance(15_000);
    r = 0;
    expect(await s.drainQueue({ queue: 'processing' })).toMatchObject({ failure: 1 });
    // attempt 2: 16 + 6 + 0 = 22 s
    expect(s.getJob(job.id)!.scheduledAt).toBe(clock.now() + 22_000);
    clock.advance(22_000);
    expect(await s.drainQueue({ queue: 'processing' })).toMatchObject({ discarded: 1 });
    const final = s.getJob(job.id)!;
    expect(final).toMatchObject({ state: 'discarded', attempt: 3 });
    expect(final.errors.map((e) => e.attempt)).toEqual([1, 2, 3]);
  });

  it('computes Oban backoff values', () => {
    expect(defaultBackoff(1, () => 0)).toBe(7);
    expect(defaultBackoff(1, () => 0.999)).toBe(1 + 6 + 15);
    expect(defaultBackoff(3, () => 0.5)).toBe(81 + 6 + 3 * 8);
    expect([1, 2, 3, 4].map((a) => exponentialBackoff(a))).toEqual([60, 120, 240, 480]);
  });

  it('uses a worker backoff from the job and the error (rate limit)', async () => {
    const clock = fakeClock();
    const download = defineWorker<{ url: string }>({
      name: 'download',
      queue: 'download',
      maxAttempts: 5,
      backoff: (job, error, { random }) =>
        error instanceof SfaError && error.code === 'RATE_LIMITED' ? exponentialBackoff(job.attempt) : defaultBackoff(job.attempt, random),
      perform: () => ({ error: new SfaError('RATE_LIMITED', 'slow down') }),
    });
    const { s } = setup({ workers: [download], testing: 'manual', clock, random: () => 0 });
    const { job } = await s.insert(download, { url: 'x' });
    const delays: number[] = [];
    for (let i = 0; i < 3; i++) {
      await s.drainQueue({ queue: 'download' });
      const j = s.getJob(job.id)!;
      delays.push((j.scheduledAt - clock.now()) / 1000);
      clock.set(j.scheduledAt);
    }
    expect(delays).toEqual([60, 120, 240]);
  });

  it('orders by priority, then scheduled_at, then id', async () => {
    const clock = fakeClock();
    const order: number[] = [];
    const w = defineWorker({ name: 'w', queue: 'analysis', perform: (job) => void order.push(job.id) });
    const { s } = setup({ workers: [w], testing: 'manual', clock });
    const a = (await s.insert(w, {}, { priority: 5 })).job.id;
    const b = (await s.insert(w, {}, { priority: 1 })).job.id;
    const c = (await s.insert(w, {}, { priority: 1, scheduledAt: clock.now() - 1000 })).job.id;
    const d = (await s.insert(w, {}, { priority: 5 })).job.id;
    const e = (await s.insert(w, {}, { priority: 0, scheduleIn: 60 })).job.id;
    await s.drainQueue({ queue: 'analysis' });
    expect(order).toEqual([c, b, a, d]);
    expect(s.getJob(e)!.state).toBe('scheduled');
    await s.drainQueue({ queue: 'analysis', withScheduled: true });
    expect(order.at(-1)).toBe(e);
  });

  it('validates inserts with typed errors', async () => {
    const { s } = setup({ workers: [scripted], testing: 'manual' });
    await expect(s.insert('nope', {})).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(s.insert(scripted, {}, { priority: 10 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(s.insert(scripted, {}, { queue: 'nowhere' })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(s.insert(scripted, {}, { dependsOn: [999] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // insertAll is all or nothing.
    await expect(s.insertAll([{ worker: scripted }, { worker: 'nope' }])).rejects.toBeInstanceOf(SfaError);
    expect(s.listJobs()).toHaveLength(0);
  });

  it('retry() brings back discarded and cancelled jobs with one more attempt', async () => {
    const { s } = setup({ workers: [scripted], testing: 'manual' });
    const { job } = await s.insert(scripted, { ret: 'discard' });
    await s.drainQueue();
    expect(() => s.retry(job.id + 100)).toThrow(SfaError);
    const again = s.retry(job.id);
    expect(again).toMatchObject({ state: 'available', attempt: 1, maxAttempts: 3, discardedAt: null });
    const ex = defineWorker({ name: 'ex', queue: 'analysis', maxAttempts: 1, perform: () => ({ error: 'x' }) });
    const { s: s2 } = setup({ workers: [ex], testing: 'manual' });
    const { job: j2 } = await s2.insert(ex, {});
    await s2.drainQueue();
    expect(s2.getJob(j2.id)).toMatchObject({ state: 'discarded', attempt: 1 });
    expect(s2.retry(j2.id)).toMatchObject({ state: 'available', maxAttempts: 2 });
    await s2.drainQueue();
    expect(s2.getJob(j2.id)).toMatchObject({ state: 'discarded', attempt: 2 });
    expect(() => s2.retry(j2.id) && s2.retry(j2.id)).toThrow(/only discarded/);
  });
});

describe('unique jobs', () => {
  const dl = defineWorker<{ spotify_url: string; quality?: string }>({
    name: 'download',
    queue: 'download',
    unique: { period: 300, fields: ['worker', 'args'], keys: ['spotify_url'] },
    perform: () => undefined,
  });

  it('returns the existing job with conflict: true within the period', async () => {
    const clock = fakeClock();
    const { s } = setup({ workers: [dl], testing: 'manual', clock });
    const a = await s.insert(dl, { spotify_url: 'u1', quality: '320k' });
    const b = await s.insert(dl, { spotify_url: 'u1', quality: '128k' });
    const c = await s.insert(dl, { spotify_url: 'u2' });
    expect(a.conflict).toBe(false);
    expect(b).toMatchObject({ conflict: true, job: { id: a.job.id } });
    expect(c.conflict).toBe(false);
    clock.advance(301_000);
    const d = await s.insert(dl, { spotify_url: 'u1' });
    expect(d.conflict).toBe(false);
    // Cancelled jobs do not count (default states); unique: false bypasses.
    s.cancel(d.job.id);
    expect((await s.insert(dl, { spotify_url: 'u1' })).conflict).toBe(false);
    expect((await s.insert(dl, { spotify_url: 'u1' }, { unique: false })).conflict).toBe(false);
    expect(s.listJobs({ queue: 'download' })).toHaveLength(5);
  });

  it('dedupes inside one insertAll batch', async () => {
    const { s } = setup({ workers: [dl], testing: 'manual' });
    const [a, b] = await s.insertAll([
      { worker: dl, args: { spotify_url: 'same' } },
      { worker: dl, args: { spotify_url: 'same' } },
    ]);
    expect(a!.conflict).toBe(false);
    expect(b).toMatchObject({ conflict: true, job: { id: a!.job.id } });
  });
});

describe('dependencies and workflows', () => {
  const log: string[] = [];
  const step = defineWorker<{ name: string; fail?: boolean }>({
    name: 'step',
    queue: 'processing',
    maxAttempts: 1,
    perform: (job) => {
      log.push(job.args.name);
      return job.args.fail ? { discard: 'failed on purpose' } : undefined;
    },
  });

  it('releases a dependent in the transaction that completes its last dependency', async () => {
    log.length = 0;
    const { s, db } = setup({ workers: [step], testing: 'manual' });
    const res = await s.insertAll([
      { worker: step, args: { name: 'a' }, ref: 'a' },
      { worker: step, args: { name: 'b' }, ref: 'b' },
      { worker: step, args: { name: 'c' }, ref: 'c', dependsOn: ['a', 'b'] },
    ]);
    const c = res[2]!.job;
    expect(c).toMatchObject({ state: 'scheduled', waiting: true, depsPending: 2 });
    await s.drainQueue({ withRecursion: false });
    // c was not available when the drain started: without recursion it is left available.
    expect(s.getJob(c.id)).toMatchObject({ state: 'available', waiting: false, depsPending: 0 });
    await s.drainQueue({ withRecursion: true });
    expect(log).toEqual(['a', 'b', 'c']);
    expect(db.prepare('SELECT count(*) AS n FROM job_dependencies WHERE resolved = 1').get()).toEqual({ n: 2 });
  });

  it('cancels dependents of a failed job, transitively, unless they opt to run', async () => {
    log.length = 0;
    const { s } = setup({ workers: [step], testing: 'manual' });
    const [a, b, c, d] = await s.insertAll([
      { worker: step, args: { name: 'a', fail: true }, ref: 'a' },
      { worker: step, args: { name: 'b' }, ref: 'b', dependsOn: ['a'] },
      { worker: step, args: { name: 'c' }, ref: 'c', dependsOn: ['b'] },
      { worker: step, args: { name: 'd' }, ref: 'd', dependsOn: ['a'], onDependencyFailure: 'run' },
    ]);
    await s.drainQueue({ withRecursion: true });
    expect(log).toEqual(['a', 'd']);
    expect(s.getJob(a!.job.id)!.state).toBe('discarded');
    expect(s.getJob(b!.job.id)).toMatchObject({ state: 'cancelled', errors: [{ code: 'DEPENDENCY_FAILED' }] });
    expect(s.getJob(c!.job.id)).toMatchObject({ state: 'cancelled', errors: [{ error: `dependency #${b!.job.id} was cancelled` }] });
    expect(s.getJob(d!.job.id)!.state).toBe('completed');
    // Depending on an already failed job: inserted cancelled.
    const late = await s.insert(step, { name: 'late' }, { dependsOn: [a!.job.id] });
    expect(late.job.state).toBe('cancelled');
    // Cancelling a waiting job propagates too.
    const [x, y] = await s.insertAll([
      { worker: step, args: { name: 'x' }, ref: 'x', scheduleIn: 60 },
      { worker: step, args: { name: 'y' }, dependsOn: ['x'] },
    ]);
    s.cancel(x!.job.id);
    expect(s.getJob(y!.job.id)!.state).toBe('cancelled');
  });

  it('chains follow-ups and completion side effects atomically (then + onComplete)', async () => {
    const analyze = defineWorker<{ track: string }>({
      name: 'analyze',
      queue: 'analysis',
      perform: (job, ctx) => {
        ctx.onComplete((tx) => tx.db.prepare('INSERT INTO results VALUES (?, ?)').run(job.args.track, 'analyzed'));
      },
    });
    let failHook = true;
    const separate = defineWorker<{ track: string }>({
      name: 'separate',
      queue: 'processing',
      maxAttempts: 2,
      perform: (job, ctx) => {
        ctx.onComplete(() => {
          if (failHook) throw new Error('library write failed');
        });
        return { ok: 'stems', then: [{ worker: analyze, args: { track: job.args.track } }] };
      },
    });
    const { s: s2, t: t2 } = setup({ workers: [separate, analyze], testing: 'manual' });
    t2.db.exec('CREATE TABLE results (track TEXT PRIMARY KEY, stage TEXT)');
    const { job } = await s2.insert(separate, { track: 't1' });
    await s2.drainQueue({ queue: 'processing' });
    // The hook threw: no completion, no follow-up; an error with a retry instead.
    expect(s2.getJob(job.id)).toMatchObject({ state: 'retryable', errors: [{ error: 'library write failed' }] });
    expect(s2.allEnqueued({ worker: analyze })).toHaveLength(0);
    failHook = false;
    await s2.drainQueue({ queue: 'processing', withScheduled: true });
    expect(s2.getJob(job.id)).toMatchObject({ state: 'completed', result: 'stems' });
    expect(s2.enqueued({ worker: 'analyze', args: { track: 't1' } })).toBe(true);
    expect(s2.enqueued({ worker: 'analyze', args: { track: 't2' } })).toBe(false);
    expect(await s2.drainQueue({ queue: 'analysis' })).toMatchObject({ success: 1 });
    expect(t2.db.prepare('SELECT * FROM results').all()).toEqual([{ track: 't1', stage: 'analyzed' }]);
  });
});

describe('inline testing mode', () => {
  it('runs perform inside insert, including follow-ups', async () => {
    const b = defineWorker({ name: 'b', queue: 'analysis', perform: () => ({ ok: 'b done' }) });
    const a = defineWorker({ name: 'a', queue: 'processing', perform: () => ({ ok: 'a done', then: [{ worker: b }] }) });
    const { s } = setup({ workers: [a, b], testing: 'inline' });
    const { job } = await s.insert(a, {});
    expect(job).toMatchObject({ state: 'completed', result: 'a done' });
    expect(s.listJobs({ state: 'completed' }).map((j) => j.worker)).toEqual(['b', 'a']);
    // Dependents released by a completion run inline too.
    const [first, second] = await s.insertAll([
      { worker: b, ref: 'first' },
      { worker: b, dependsOn: ['first'] },
    ]);
    expect(first!.job.state).toBe('completed');
    expect(second!.job).toMatchObject({ state: 'completed', result: 'b done' });
  });
});

describe('dispatcher (real time)', () => {
  it('dispatches promptly after insert and respects concurrency, pause, resume and scale', async () => {
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const w = defineWorker({
      name: 'gated',
      queue: 'analysis',
      perform: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise<void>((r) => gates.push(r));
        running--;
      },
    });
    const { s } = setup({ workers: [w] });
    s.start();
    const t0 = performance.now();
    const first = await s.insert(w, {});
    await until(() => running === 1, 'first job to start');
    expect(performance.now() - t0).toBeLessThan(250); // generous: CI; the benchmark measures the real figure
    for (let i = 0; i < 5; i++) await s.insert(w, {});
    await until(() => running === 2, 'two running');
    await sleep(20);
    expect(peak).toBe(2); // analysis limit 2
    expect(s.stats().queues.analysis).toMatchObject({ limit: 2, running: 2, counts: { executing: 2, available: 4 } });
    s.pauseQueue('analysis');
    gates.splice(0).forEach((g) => g());
    await until(() => running === 0, 'running jobs to finish while paused');
    await sleep(20);
    expect(running).toBe(0);
    expect(s.getJob(first.job.id)!.state).toBe('completed');
    s.scaleQueue('analysis', 4);
    expect(running).toBe(0);
    s.resumeQueue('analysis');
    await until(() => running === 4, 'four running after scale + resume');
    expect(peak).toBe(4);
    for (;;) {
      gates.splice(0).forEach((g) => g());
      if (s.stats().totals.completed === 6) break;
      await sleep(2);
    }
    expect(() => s.scaleQueue('analysis', 0)).toThrow(SfaError);
  });

  it('stages scheduled jobs with a timer at their due time', async () => {
    const started: number[] = [];
    const w = defineWorker({ name: 'w', queue: 'download', perform: () => void started.push(Date.now()) });
    const { s } = setup({ workers: [w] });
    s.start();
    const at = Date.now() + 120;
    const { job } = await s.insert(w, {}, { scheduledAt: at });
    expect(job.state).toBe('scheduled');
    const done = await s.waitFor(job.id, { timeoutMs: 3000 });
    expect(done.state).toBe('completed');
    expect(started[0]!).toBeGreaterThanOrEqual(at);
    expect(started[0]! - at).toBeLessThan(100);
  });

  it('times out a job: aborts the signal, counts an error, ignores the late return', async () => {
    let sawAbort = false;
    const slow = defineWorker({
      name: 'slow',
      queue: 'processing',
      maxAttempts: 1,
      timeout: 50,
      perform: async (_job, ctx) => {
        await sleep(150);
        sawAbort = ctx.signal.aborted;
        return { ok: 'too late' };
      },
    });
    const { s } = setup({ workers: [slow] });
    const exceptions: string[] = [];
    s.on('job:exception', (e) => exceptions.push(e.kind));
    s.start();
    const { job } = await s.insert(slow, {});
    const end = await s.waitFor(job.id, { timeoutMs: 3000 });
    expect(end).toMatchObject({ state: 'discarded', errors: [{ code: 'JOB_TIMEOUT' }] });
    await sleep(150);
    expect(sawAbort).toBe(true);
    expect(s.getJob(job.id)!.state).toBe('discarded'); // the late { ok } changed nothing
    expect(exceptions).toEqual(['timeout']);
  });

  it('fences by claim token: a stale attempt returning late cannot complete the newer attempt', async () => {
    const releases: ((r: PerformResult) => void)[] = [];
    const w = defineWorker({
      name: 'fenced',
      queue: 'processing',
      maxAttempts: 2,
      timeout: 40,
      backoff: () => 0,
      // Ignores its signal; each attempt ends only when the test releases it.
      perform: () => new Promise<PerformResult>((resolve) => releases.push(resolve)),
    });
    const { s } = setup({ workers: [w], abortGraceMs: 10 });
    s.start();
    const { job } = await s.insert(w, {});
    // Attempt 1 times out, is retried at once (backoff 0) and attempt 2 is claimed.
    await until(() => s.getJob(job.id)!.attempt === 2 && s.getJob(job.id)!.state === 'executing', 'second attempt', 3000);
    const second = s.getJob(job.id)!;
    releases[0]!({ ok: 'stale' }); // attempt 1 returns late
    await sleep(20);
    expect(s.getJob(job.id)).toMatchObject({ state: 'executing', attempt: 2, attemptedBy: second.attemptedBy, result: null });
    releases[1]!({ ok: 'fresh' });
    expect(await s.waitFor(job.id, { timeoutMs: 1000 })).toMatchObject({ state: 'completed', result: 'fresh' });
    expect(s.getJob(job.id)!.errors).toMatchObject([{ attempt: 1, code: 'JOB_TIMEOUT' }]);
  });

  it('fences in the database: an attempt rescued and re-claimed elsewhere cannot be completed by the old one', async () => {
    const release: Record<string, (r: PerformResult) => void> = {};
    const make = (who: string) =>
      defineWorker({ name: 'split', queue: 'download', perform: () => new Promise<PerformResult>((r) => (release[who] = r)) });
    const { s: a, db } = setup({ workers: [make('a')] });
    a.start();
    const { job } = await a.insert('split', {});
    await until(() => release.a, 'a to run the job');
    // A second scheduler on the same file (the app restarted while the old process hangs on).
    const b = createScheduler({ db, workers: [make('b')], queues: { download: 3 } });
    cleanup.scheduler(b);
    expect(b.start()).toEqual({ rescued: 1 });
    await until(() => release.b, 'b to re-run the job');
    const claimedByB = a.getJob(job.id)!;
    expect(claimedByB).toMatchObject({ state: 'executing', attempt: 2 });
    release.a!({ ok: 'from a' }); // the old attempt finishes: its token no longer holds the job
    await sleep(20);
    expect(a.getJob(job.id)).toMatchObject({ state: 'executing', attemptedBy: claimedByB.attemptedBy, result: null });
    release.b!({ ok: 'from b' });
    expect(await b.waitFor(job.id, { timeoutMs: 1000 })).toMatchObject({ state: 'completed', result: 'from b' });
  });

  it('cancels a running job: aborts, ends cancelled, fences a perform that ignores the signal', async () => {
    let cooperativeAborted = false;
    const coop = defineWorker({
      name: 'coop',
      queue: 'processing',
      perform: (_job, ctx) =>
        new Promise<PerformResult>((resolve) => {
          ctx.signal.addEventListener('abort', () => {
            cooperativeAborted = true;
            resolve({ error: ctx.signal.reason });
          });
        }),
    });
    let stubbornDone = false;
    const stubborn = defineWorker({
      name: 'stubborn',
      queue: 'processing',
      perform: async () => {
        await sleep(300);
        stubbornDone = true;
        return { ok: 'ignored' };
      },
    });
    const { s } = setup({ workers: [coop, stubborn], abortGraceMs: 100 });
    s.start();
    const a = (await s.insert(coop, {})).job.id;
    const b = (await s.insert(stubborn, {})).job.id;
    await until(() => s.getJob(a)!.state === 'executing' && s.getJob(b)!.state === 'executing', 'both executing');
    expect(s.cancel(a).state).toBe('cancelled');
    expect(s.cancel(b).state).toBe('cancelled');
    expect(cooperativeAborted).toBe(true);
    await sleep(5);
    expect(s.queueInfo('processing').running).toBe(1); // the stubborn one keeps its slot for the grace period
    await until(() => s.queueInfo('processing').running === 0, 'grace period to free the slot', 1000);
    await until(() => stubbornDone, 'stubborn perform to return', 1000);
    await sleep(10);
    expect(s.getJob(a)).toMatchObject({ state: 'cancelled', errors: [{ code: 'CANCELLED' }] });
    expect(s.getJob(b)).toMatchObject({ state: 'cancelled', result: null, completedAt: null });
    // Cancelling a finished job is a no-op.
    expect(s.cancel(a).state).toBe('cancelled');
  });

  it('emits state, telemetry and throttled progress events; stores the snapshot', async () => {
    let release!: () => void;
    const w = defineWorker({
      name: 'progressive',
      queue: 'processing',
      perform: async (_job, ctx) => {
        for (let i = 0; i <= 50; i++) ctx.progress(i, `step ${i}`);
        await new Promise<void>((r) => (release = r));
        ctx.progress(100, 'done');
        return { ok: true };
      },
    });
    const { s } = setup({ workers: [w], progressWriteIntervalMs: 1000 });
    const states: string[] = [];
    const topic: string[] = [];
    const telemetry: string[] = [];
    s.on('job:state', (e) => states.push(`${e.from}->${e.to}`));
    s.on('job:start', () => telemetry.push('start'));
    s.on('job:stop', (e) => telemetry.push(`stop:${e.state}`));
    s.start();
    const { job } = await s.insert(w, {});
    const off = s.on(`jobs:${job.id}`, (e) => topic.push(e.type === 'progress' ? `p${e.percent}` : `s:${e.to}`));
    await until(() => topic.length > 0, 'first progress');
    await sleep(150);
    // 51 reports in one tick: the first goes out, the latest goes out at the end of the interval.
    expect(topic).toEqual(['s:executing', 'p0', 'p50']);
    expect(s.getJob(job.id)!.progress).toMatchObject({ percent: 0, message: 'step 0' });
    release();
    await s.waitFor(job.id);
    off();
    expect(topic).toEqual(['s:executing', 'p0', 'p50', 'p100', 's:completed']);
    expect(states).toEqual(['null->available', 'available->executing', 'executing->completed']);
    expect(telemetry).toEqual(['start', 'stop:completed']);
    expect(s.getJob(job.id)!.progress).toMatchObject({ percent: 100 });
  });

  it('stop() waits for the grace period, then puts running jobs back without using an attempt', async () => {
    const w = defineWorker({ name: 'forever', queue: 'download', perform: () => new Promise<PerformResult>(() => {}) });
    const { s, db } = setup({ workers: [w] });
    s.start();
    const { job } = await s.insert(w, {});
    await until(() => s.getJob(job.id)!.state === 'executing', 'executing');
    const t0 = Date.now();
    await s.stop({ graceMs: 100 });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(95);
    expect(s.getJob(job.id)).toMatchObject({ state: 'available', attempt: 0, errors: [{ code: 'SHUTDOWN' }] });
    await expect(s.insert(w, {})).rejects.toThrow(/stopped/);
    // A new scheduler on the same database picks it up.
    let ran = false;
    const w2 = defineWorker({ name: 'forever', queue: 'download', perform: () => void (ran = true) });
    const s2 = createScheduler({ db, workers: [w2] });
    cleanup.scheduler(s2);
    s2.start();
    await s2.waitFor(job.id, { timeoutMs: 2000 });
    expect(ran).toBe(true);
  });
});

describe('crash rescue, pruning and monitoring', () => {
  it('rescues jobs left executing: available with attempts left, discarded otherwise', async () => {
    const clock = fakeClock();
    const w = defineWorker({ name: 'w', queue: 'download', maxAttempts: 2, perform: () => undefined });
    const { s, db } = setup({ workers: [w], testing: 'manual', clock });
    const a = (await s.insert(w, {})).job.id;
    const b = (await s.insert(w, {})).job.id;
    const c = (await s.insert(w, {}, { dependsOn: [b] })).job.id;
    // Simulate a dead process mid-attempt (attempt 1 of a, attempt 2 = last of b).
    db.prepare(`UPDATE jobs SET state = 'executing', attempt = 1, attempted_at = 1, attempted_by = 'dead/1' WHERE id = ?`).run(a);
    db.prepare(`UPDATE jobs SET state = 'executing', attempt = 2, attempted_at = 1, attempted_by = 'dead/2' WHERE id = ?`).run(b);
    expect(s.start()).toEqual({ rescued: 2 });
    expect(s.getJob(a)).toMatchObject({
      state: 'available',
      attempt: 1,
      errors: [{ error: 'the app stopped while this job ran', code: 'RESCUED' }],
    });
    expect(s.getJob(b)).toMatchObject({ state: 'discarded', errors: [{ error: 'the app stopped while this job ran' }] });
    expect(s.getJob(c)).toMatchObject({ state: 'cancelled' });
  });

  it('prunes finished jobs older than the configured age', async () => {
    const clock = fakeClock();
    const w = defineWorker({ name: 'w', queue: 'download', perform: () => undefined });
    const { s } = setup({ workers: [w], testing: 'manual', clock, pruneAfterMs: 1000 });
    const old = (await s.insert(w, {})).job.id;
    await s.drainQueue();
    clock.advance(2000);
    const fresh = (await s.insert(w, {})).job.id;
    await s.drainQueue();
    const pending = (await s.insert(w, {})).job.id;
    expect(await s.prune()).toBe(1);
    expect(s.getJob(old)).toBeUndefined();
    expect(s.getJob(fresh)!.state).toBe('completed');
    expect(s.getJob(pending)!.state).toBe('available');
  });

  it('lists jobs, counts per queue and state, and shows recent failures', async () => {
    const { s } = setup({ workers: [scripted], testing: 'manual' });
    await s.insert(scripted, { ret: 'ok' }, { trackId: 't1' });
    await s.insert(scripted, { ret: 'error' }, { trackId: 't2' });
    await s.insert(scripted, { ret: 'discard' }, { trackId: 't1' });
    await s.drainQueue();
    expect(s.listJobs({ trackId: 't1' }).map((j) => j.args.ret)).toEqual(['discard', 'ok']);
    expect(s.listJobs({ state: ['retryable', 'discarded'], limit: 1 })).toHaveLength(1);
    const st = s.stats();
    expect(st.queues.processing).toMatchObject({
      limit: 2,
      paused: false,
      running: 0,
      counts: { completed: 1, retryable: 1, discarded: 1 },
    });
    expect(st.queues.download!.counts.available).toBe(0);
    expect(st.totals.completed).toBe(1);
    const failures = s.recentFailures(5);
    expect(failures.map((j) => j.state).sort()).toEqual(['discarded', 'retryable']);
    expect(failures.every((j) => j.errors.length === 1)).toBe(true);
  });

  it('waitFor resolves on the final state', async () => {
    const w = defineWorker({ name: 'w', queue: 'download', perform: () => ({ ok: 1 }) });
    const { s } = setup({ workers: [w], testing: 'manual' });
    const { job } = await s.insert(w, {});
    const p = s.waitFor(job.id);
    await s.drainQueue();
    const j: Job = await p;
    expect(j.state).toBe('completed');
  });
});
