import type { Statement } from 'better-sqlite3';
import type { Db } from '../db/connection';
import type { JobState } from './states';
import type { DependencyFailurePolicy, Job, JobError, Json, JsonObject } from './types';

/** A row of `jobs` as SQLite returns it. */
export interface JobRow {
  id: number;
  state: JobState;
  queue: string;
  worker: string;
  args: string;
  meta: string;
  tags: string;
  errors: string;
  result: string | null;
  attempt: number;
  max_attempts: number;
  priority: number;
  inserted_at: number;
  scheduled_at: number;
  attempted_at: number | null;
  attempted_by: string | null;
  completed_at: number | null;
  discarded_at: number | null;
  cancelled_at: number | null;
  unique_key: string | null;
  track_id: string | null;
  deps_pending: number;
  on_dependency_failure: DependencyFailurePolicy;
  progress: number | null;
  progress_message: string | null;
  progress_at: number | null;
  /** Migration 009: the cluster node of the latest attempt (null: this machine). */
  node_ip?: string | null;
  node_id?: string | null;
}

export function toJob(row: JobRow): Job {
  return {
    id: row.id,
    state: row.state,
    queue: row.queue,
    worker: row.worker,
    args: JSON.parse(row.args) as JsonObject,
    meta: JSON.parse(row.meta) as JsonObject,
    tags: JSON.parse(row.tags) as string[],
    errors: JSON.parse(row.errors) as JobError[],
    result: row.result === null ? null : (JSON.parse(row.result) as Json),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    priority: row.priority,
    insertedAt: row.inserted_at,
    scheduledAt: row.scheduled_at,
    attemptedAt: row.attempted_at,
    attemptedBy: row.attempted_by,
    completedAt: row.completed_at,
    discardedAt: row.discarded_at,
    cancelledAt: row.cancelled_at,
    uniqueKey: row.unique_key,
    trackId: row.track_id,
    waiting: row.state === 'scheduled' && row.deps_pending > 0,
    depsPending: row.deps_pending,
    onDependencyFailure: row.on_dependency_failure,
    progress: row.progress === null ? null : { percent: row.progress, message: row.progress_message, at: row.progress_at ?? 0 },
    node: row.node_ip && row.node_id ? { ip: row.node_ip, id: row.node_id } : null,
  };
}

/** A job to insert: the text columns as stored, the rest in camelCase (bound by name). */
export interface NewJobRow extends Pick<JobRow, 'state' | 'queue' | 'worker' | 'args' | 'meta' | 'tags' | 'errors'> {
  maxAttempts: number;
  priority: number;
  insertedAt: number;
  scheduledAt: number;
  cancelledAt: number | null;
  uniqueKey: string | null;
  trackId: string | null;
  depsPending: number;
  onDependencyFailure: DependencyFailurePolicy;
}

const FENCE = `id = @id AND state = 'executing' AND attempted_by = @token`;
const APPEND_ERROR = `errors = json_insert(errors, '$[#]', json(@error))`;

/**
 * Every SQL statement of the engine, prepared once. Statements are single-row or bounded
 * (LIMIT) so each transaction stays well under a millisecond or two. Callers own transactions.
 */
export class JobStore {
  readonly db: Db;
  private readonly s: ReturnType<typeof prepareAll>;
  private readonly listCache = new Map<string, Statement>();

  constructor(db: Db) {
    this.db = db;
    this.s = prepareAll(db);
  }

  /**
   * Insert and return the row as stored. The row is built here rather than read back with
   * RETURNING *: returning a wide row costs more than the INSERT itself (measured, bench/).
   */
  insert(row: NewJobRow): JobRow {
    const id = Number(this.s.insert.run(row).lastInsertRowid);
    return {
      id,
      state: row.state,
      queue: row.queue,
      worker: row.worker,
      args: row.args,
      meta: row.meta,
      tags: row.tags,
      errors: row.errors,
      result: null,
      attempt: 0,
      max_attempts: row.maxAttempts,
      priority: row.priority,
      inserted_at: row.insertedAt,
      scheduled_at: row.scheduledAt,
      attempted_at: null,
      attempted_by: null,
      completed_at: null,
      discarded_at: null,
      cancelled_at: row.cancelledAt,
      unique_key: row.uniqueKey,
      track_id: row.trackId,
      deps_pending: row.depsPending,
      on_dependency_failure: row.onDependencyFailure,
      progress: null,
      progress_message: null,
      progress_at: null,
    };
  }

  insertDependency(jobId: number, dependsOn: number, resolved: boolean): void {
    this.s.insertDep.run(jobId, dependsOn, resolved ? 1 : 0);
  }

  get(id: number): JobRow | undefined {
    return this.s.get.get(id) as JobRow | undefined;
  }

  findUnique(key: string, since: number | null, states: JobState[]): JobRow | undefined {
    return this.s.findUnique.get(key, since ?? Number.MIN_SAFE_INTEGER, JSON.stringify(states)) as JobRow | undefined;
  }

  /** The atomic claim: one statement, `limit` jobs, priority then due time then id. */
  claim(queue: string, limit: number, now: number, tokenPrefix: string): JobRow[] {
    const rows = this.s.claim.all({ queue, limit, now, token: tokenPrefix }) as JobRow[];
    // RETURNING order is unspecified: restore the claim order so starts happen in priority order.
    if (rows.length > 1) rows.sort((a, b) => a.priority - b.priority || a.scheduled_at - b.scheduled_at || a.id - b.id);
    return rows;
  }

  /** Claim one specific job regardless of its due time (inline testing and drains). */
  claimById(id: number, now: number, tokenPrefix: string): JobRow | undefined {
    return this.s.claimById.get({ id, now, token: tokenPrefix }) as JobRow | undefined;
  }

  /** Ids of available jobs in claim order (drainQueue without recursion). */
  availableIds(queue: string): number[] {
    return (this.s.availableIds.all(queue) as { id: number }[]).map((r) => r.id);
  }

  nextAvailableId(queue: string): number | undefined {
    return (this.s.nextAvailable.get(queue) as { id: number } | undefined)?.id;
  }

  dueToStage(now: number, limit: number): JobRow[] {
    return this.s.dueToStage.all(now, limit) as JobRow[];
  }

  makeAvailable(id: number, from: JobState): JobRow | undefined {
    return this.s.makeAvailable.get(id, from) as JobRow | undefined;
  }

  nextDueAt(): number | null {
    return (this.s.nextDue.get() as { t: number | null }).t;
  }

  /** Whether any job is available or executing: one index probe, however many jobs are stored. */
  anyRunnable(): boolean {
    return this.s.anyRunnable.pluck().get() === 1;
  }

  // ---- fenced transitions out of executing (undefined = the token no longer holds the job) ----

  /** Fenced completion of the claimed `row`; returns the completed row (built, not read back). */
  complete(row: JobRow, now: number, result: string | null, message: string | null): JobRow | undefined {
    const token = row.attempted_by;
    // the row as stored now: columns the worker set during the attempt (its cluster node) included
    return this.s.complete.get({ id: row.id, token, now, result, message }) as JobRow | undefined;
  }

  retryLater(id: number, token: string, at: number, error: JobError): JobRow | undefined {
    return this.s.retryLater.get({ id, token, at, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  discard(id: number, token: string, now: number, error: JobError): JobRow | undefined {
    return this.s.discard.get({ id, token, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  cancelExecution(id: number, token: string, now: number, error: JobError): JobRow | undefined {
    return this.s.cancelFenced.get({ id, token, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  snooze(id: number, token: string, at: number, now: number, message: string | null): JobRow | undefined {
    return this.s.snooze.get({ id, token, at, now, message }) as JobRow | undefined;
  }

  /** Graceful shutdown: give the attempt back, the job runs again at next start. */
  putBack(id: number, token: string, now: number, error: JobError): JobRow | undefined {
    return this.s.putBack.get({ id, token, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  progress(id: number, token: string, percent: number, message: string | null, at: number): void {
    this.s.progress.run({ id, token, percent, message, at });
  }

  // ---- unfenced transitions (user actions, rescue, dependencies) ----

  executing(): JobRow[] {
    return this.s.executing.all() as JobRow[];
  }

  rescue(id: number, now: number, error: JobError): JobRow | undefined {
    return this.s.rescue.get({ id, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  cancelPending(id: number, now: number, error: JobError): JobRow | undefined {
    return this.s.cancelPending.get({ id, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  cancelExecuting(id: number, now: number, error: JobError): JobRow | undefined {
    return this.s.cancelExecuting.get({ id, now, error: JSON.stringify(error) }) as JobRow | undefined;
  }

  retry(id: number, now: number): JobRow | undefined {
    return this.s.retry.get({ id, now }) as JobRow | undefined;
  }

  /** Unresolved dependents of `id`, marking the edges resolved (each edge counts once). */
  takeDependents(id: number): number[] {
    const ids = (this.s.dependents.all(id) as { job_id: number }[]).map((r) => r.job_id);
    if (ids.length > 0) this.s.resolveEdges.run(id);
    return ids;
  }

  releaseDependency(id: number, now: number): JobRow | undefined {
    return this.s.releaseDep.get(now, id) as JobRow | undefined;
  }

  prune(before: number, limit: number): number {
    return this.s.prune.run(before, limit).changes;
  }

  // ---- monitoring ----

  countByQueueState(): { queue: string; state: JobState; n: number }[] {
    return this.s.counts.all() as { queue: string; state: JobState; n: number }[];
  }

  recentFailures(limit: number): JobRow[] {
    return this.s.failures.all(limit) as JobRow[];
  }

  list(filter: { states?: JobState[]; queue?: string; worker?: string; trackId?: string; before?: number; limit: number }): JobRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: filter.limit };
    if (filter.states) {
      where.push('state IN (SELECT value FROM json_each(@states))');
      params.states = JSON.stringify(filter.states);
    }
    const eq = (value: unknown, column: string, param: string, op = '=') => {
      if (value === undefined) return;
      where.push(`${column} ${op} @${param}`);
      params[param] = value;
    };
    eq(filter.queue, 'queue', 'queue');
    eq(filter.worker, 'worker', 'worker');
    eq(filter.trackId, 'track_id', 'trackId');
    eq(filter.before, 'id', 'before', '<');
    const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT @limit`;
    let stmt = this.listCache.get(sql);
    if (!stmt) this.listCache.set(sql, (stmt = this.db.prepare(sql)));
    return stmt.all(params) as JobRow[];
  }

  dataVersion(): number {
    return this.s.dataVersion.pluck().get() as number;
  }
}

function prepareAll(db: Db) {
  const p = (sql: string) => db.prepare(sql);
  return {
    insert: p(`INSERT INTO jobs (state, queue, worker, args, meta, tags, errors, max_attempts, priority, inserted_at,
        scheduled_at, cancelled_at, unique_key, track_id, deps_pending, on_dependency_failure)
      VALUES (@state, @queue, @worker, @args, @meta, @tags, @errors, @maxAttempts, @priority, @insertedAt,
        @scheduledAt, @cancelledAt, @uniqueKey, @trackId, @depsPending, @onDependencyFailure)`),
    insertDep: p('INSERT INTO job_dependencies (job_id, depends_on, resolved) VALUES (?, ?, ?)'),
    get: p('SELECT * FROM jobs WHERE id = ?'),
    findUnique: p(`SELECT * FROM jobs WHERE unique_key = ? AND inserted_at >= ?
      AND state IN (SELECT value FROM json_each(?)) ORDER BY id DESC LIMIT 1`),
    // The token is per claim statement (prefix) and per job (id suffix): fresh for every claim.
    claim: p(`UPDATE jobs SET state = 'executing', attempt = attempt + 1, attempted_at = @now,
        attempted_by = @token || '/' || id
      WHERE id IN (SELECT id FROM jobs WHERE queue = @queue AND state = 'available'
        ORDER BY priority, scheduled_at, id LIMIT @limit)
      RETURNING *`),
    claimById: p(`UPDATE jobs SET state = 'executing', attempt = attempt + 1, attempted_at = @now,
        attempted_by = @token || '/' || id
      WHERE id = @id AND state IN ('available', 'scheduled', 'retryable') AND deps_pending = 0 AND attempt < max_attempts
      RETURNING *`),
    availableIds: p(`SELECT id FROM jobs WHERE queue = ? AND state = 'available' ORDER BY priority, scheduled_at, id`),
    nextAvailable: p(`SELECT id FROM jobs WHERE queue = ? AND state = 'available' ORDER BY priority, scheduled_at, id LIMIT 1`),
    // INDEXED BY: without ANALYZE statistics the planner prefers jobs_state_queue and sorts.
    dueToStage:
      p(`SELECT * FROM jobs INDEXED BY jobs_stage WHERE state IN ('scheduled', 'retryable') AND deps_pending = 0 AND scheduled_at <= ?
      ORDER BY scheduled_at LIMIT ?`),
    anyRunnable: p(`SELECT EXISTS (SELECT 1 FROM jobs WHERE state IN ('available', 'executing'))`),
    makeAvailable: p(`UPDATE jobs SET state = 'available' WHERE id = ? AND state = ? AND deps_pending = 0 RETURNING *`),
    nextDue: p(
      `SELECT min(scheduled_at) AS t FROM jobs INDEXED BY jobs_stage WHERE state IN ('scheduled', 'retryable') AND deps_pending = 0`,
    ),
    complete: p(`UPDATE jobs SET state = 'completed', completed_at = @now, result = @result,
        progress = 100, progress_message = @message, progress_at = @now WHERE ${FENCE} RETURNING *`),
    retryLater: p(`UPDATE jobs SET state = 'retryable', scheduled_at = @at, ${APPEND_ERROR} WHERE ${FENCE} RETURNING *`),
    discard: p(`UPDATE jobs SET state = 'discarded', discarded_at = @now, ${APPEND_ERROR} WHERE ${FENCE} RETURNING *`),
    cancelFenced: p(`UPDATE jobs SET state = 'cancelled', cancelled_at = @now, ${APPEND_ERROR} WHERE ${FENCE} RETURNING *`),
    // A snoozed job keeps the worker's last word on why it waits (e.g. "cluster unreachable: ...").
    snooze: p(`UPDATE jobs SET state = 'scheduled', scheduled_at = @at, max_attempts = max_attempts + 1,
        progress = CASE WHEN @message IS NULL THEN progress ELSE coalesce(progress, 0) END,
        progress_message = coalesce(@message, progress_message),
        progress_at = CASE WHEN @message IS NULL THEN progress_at ELSE @now END
      WHERE ${FENCE} RETURNING *`),
    putBack: p(`UPDATE jobs SET state = 'available', scheduled_at = @now, attempt = attempt - 1, ${APPEND_ERROR}
      WHERE ${FENCE} RETURNING *`),
    progress: p(`UPDATE jobs SET progress = @percent, progress_message = @message, progress_at = @at WHERE ${FENCE}`),
    executing: p(`SELECT * FROM jobs WHERE state = 'executing'`),
    rescue: p(`UPDATE jobs SET
        state = CASE WHEN attempt < max_attempts THEN 'available' ELSE 'discarded' END,
        discarded_at = CASE WHEN attempt < max_attempts THEN NULL ELSE @now END,
        scheduled_at = @now, ${APPEND_ERROR}
      WHERE id = @id AND state = 'executing' RETURNING *`),
    cancelPending: p(`UPDATE jobs SET state = 'cancelled', cancelled_at = @now, ${APPEND_ERROR}
      WHERE id = @id AND state IN ('scheduled', 'available', 'retryable') RETURNING *`),
    cancelExecuting: p(`UPDATE jobs SET state = 'cancelled', cancelled_at = @now, ${APPEND_ERROR}
      WHERE id = @id AND state = 'executing' RETURNING *`),
    retry: p(`UPDATE jobs SET state = 'available', scheduled_at = @now, max_attempts = max(max_attempts, attempt + 1),
        completed_at = NULL, discarded_at = NULL, cancelled_at = NULL, deps_pending = 0
      WHERE id = @id AND state IN ('discarded', 'cancelled', 'retryable') RETURNING *`),
    dependents: p('SELECT job_id FROM job_dependencies WHERE depends_on = ? AND resolved = 0 ORDER BY job_id'),
    resolveEdges: p('UPDATE job_dependencies SET resolved = 1 WHERE depends_on = ? AND resolved = 0'),
    // In SET, deps_pending on the right is the old value: 1 means this was the last dependency.
    releaseDep: p(`UPDATE jobs SET deps_pending = deps_pending - 1,
        state = CASE WHEN deps_pending = 1 AND scheduled_at <= ? THEN 'available' ELSE state END
      WHERE id = ? AND state = 'scheduled' AND deps_pending > 0 RETURNING *`),
    prune: p(`DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('completed', 'discarded', 'cancelled')
        AND coalesce(completed_at, discarded_at, cancelled_at) < ? LIMIT ?)`),
    counts: p('SELECT queue, state, count(*) AS n FROM jobs GROUP BY queue, state'),
    failures: p(`SELECT * FROM jobs WHERE state IN ('retryable', 'discarded')
      ORDER BY coalesce(discarded_at, attempted_at) DESC, id DESC LIMIT ?`),
    dataVersion: p('PRAGMA data_version'),
  };
}
