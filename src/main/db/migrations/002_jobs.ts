import type { Migration } from './types';

/**
 * Frozen: never edit a migration that has shipped; add a new one instead.
 *
 * The durable job queue (see src/main/jobs/README.md). Timestamps are integer milliseconds since
 * the epoch (the scheduler's injectable clock), so ordering and due-time comparisons are plain
 * integer comparisons on indexed columns. JSON columns (args, meta, tags, errors, result) carry no
 * json_valid() CHECK: the engine is their only writer (JSON.stringify / json_insert, which itself
 * rejects invalid JSON), and the checks cost a third of the insert time (measured: bench/). The table is generic: no foreign key to tracks; a job
 * about a track carries its id in `track_id` for listing only.
 *
 * States (Oban's seven; the transitions are documented in src/main/jobs/states.ts):
 * scheduled, available, executing, retryable, completed, discarded, cancelled.
 * A job waiting on dependencies is `scheduled` with `deps_pending > 0`; staging ignores it until
 * the last dependency resolves.
 */
export const m002Jobs: Migration = {
  version: 2,
  name: 'jobs',
  sql: `
CREATE TABLE jobs (
  id                    INTEGER PRIMARY KEY AUTOINCREMENT,
  state                 TEXT NOT NULL CHECK (state IN ('scheduled', 'available', 'executing', 'retryable', 'completed', 'discarded', 'cancelled')),
  queue                 TEXT NOT NULL CHECK (length(queue) BETWEEN 1 AND 64),
  worker                TEXT NOT NULL CHECK (length(worker) BETWEEN 1 AND 128),
  args                  TEXT NOT NULL DEFAULT '{}',
  meta                  TEXT NOT NULL DEFAULT '{}',
  tags                  TEXT NOT NULL DEFAULT '[]',
  errors                TEXT NOT NULL DEFAULT '[]',
  result                TEXT,
  attempt               INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
  max_attempts          INTEGER NOT NULL CHECK (max_attempts >= 1),
  priority              INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
  inserted_at           INTEGER NOT NULL,
  scheduled_at          INTEGER NOT NULL,
  attempted_at          INTEGER,
  attempted_by          TEXT,
  completed_at          INTEGER,
  discarded_at          INTEGER,
  cancelled_at          INTEGER,
  unique_key            TEXT,
  track_id              TEXT,
  deps_pending          INTEGER NOT NULL DEFAULT 0 CHECK (deps_pending >= 0),
  on_dependency_failure TEXT NOT NULL DEFAULT 'cancel' CHECK (on_dependency_failure IN ('cancel', 'run')),
  progress              REAL CHECK (progress IS NULL OR progress BETWEEN 0 AND 100),
  progress_message      TEXT,
  progress_at           INTEGER,
  CHECK (attempt <= max_attempts),
  CHECK (state <> 'executing' OR (attempted_by IS NOT NULL AND attempted_at IS NOT NULL AND attempt >= 1)),
  CHECK (state <> 'completed' OR completed_at IS NOT NULL),
  CHECK (state <> 'discarded' OR discarded_at IS NOT NULL),
  CHECK (state <> 'cancelled' OR cancelled_at IS NOT NULL),
  CHECK (deps_pending = 0 OR state IN ('scheduled', 'cancelled'))
);

-- Claim path: UPDATE ... WHERE id IN (SELECT id ... WHERE queue = ? AND state = 'available'
-- ORDER BY priority, scheduled_at, id LIMIT ?) walks this partial index in order.
CREATE INDEX jobs_claim ON jobs (queue, priority, scheduled_at, id) WHERE state = 'available';
-- Staging path: the next due scheduled/retryable job that is not waiting on dependencies.
CREATE INDEX jobs_stage ON jobs (scheduled_at) WHERE state IN ('scheduled', 'retryable') AND deps_pending = 0;
-- Monitoring, rescue (state = 'executing') and pruning by state.
CREATE INDEX jobs_state_queue ON jobs (state, queue);
CREATE INDEX jobs_unique ON jobs (unique_key, inserted_at) WHERE unique_key IS NOT NULL;
CREATE INDEX jobs_track ON jobs (track_id) WHERE track_id IS NOT NULL;

-- Workflow edges: job_id waits for depends_on. resolved = 1 once depends_on reached a final
-- state and job_id was updated for it, so a dependency that is retried and finishes again never
-- decrements its dependents twice.
CREATE TABLE job_dependencies (
  job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  depends_on INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  resolved   INTEGER NOT NULL DEFAULT 0 CHECK (resolved IN (0, 1)),
  PRIMARY KEY (job_id, depends_on),
  CHECK (job_id <> depends_on)
) WITHOUT ROWID;
CREATE INDEX job_dependencies_depends_on ON job_dependencies (depends_on, resolved);
`,
};
