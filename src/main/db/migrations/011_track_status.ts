import type { Migration } from './types';

/**
 * Frozen once shipped. The status column's sort (src/main/library/listing-query.ts) as a stored
 * rank with an index, so that a page of 100,000 tracks sorted by status reads 50 index entries
 * instead of computing and sorting every track's status for every page (measured ~1 s and more).
 * `track_status` holds one row per track (rowid = the track's rowid, as 010's index): the rank
 * of its status kind in src/shared/listing.ts's STATUS_KINDS order (running 0, queued 1,
 * failed 2, pending 4, cancelled 5, done 6, ready 7; `missing`, 3, is a stat per row shown, not
 * stored), from its jobs (running, queued, the newest run of each step failed or cancelled), its
 * stored status and whether it has an analysis: the SQL form of renderer/lib/pipeline.ts's
 * `pipelineStatus` (listing-status.test.ts holds the two together). Triggers on `tracks`,
 * 008's `track_summary` and `jobs` recompute a track's rank in the write's own transaction.
 */
const RANK = `CASE WHEN j.running THEN 0 WHEN j.queued THEN 1
  WHEN j.failed OR t.status = 'failed' THEN 2 WHEN t.status = 'pending' THEN 4
  WHEN j.cancelled AND a.track_id IS NULL THEN 5
  WHEN j.track_id IS NOT NULL OR a.track_id IS NOT NULL THEN 6 ELSE 7 END`;
/** Each track's job flags, from the jobs `filter` lets through (all of them, or one track's). */
const JOBS = (filter: string) => `LEFT JOIN (
    SELECT track_id, max(state = 'executing') AS running, max(state IN ('scheduled', 'available', 'retryable')) AS queued,
      max(newest AND state = 'discarded') AS failed, max(newest AND state = 'cancelled') AS cancelled
    FROM (SELECT track_id, state, id = max(id) OVER (PARTITION BY track_id, worker) AS newest FROM jobs WHERE ${filter})
    GROUP BY track_id
  ) j ON j.track_id = t.id`;
/**
 * Recomputes the rank of the track whose id is `id` (none when that track no longer exists).
 * DELETE then INSERT, not INSERT OR REPLACE: a trigger's conflict clause gives way to the outer
 * statement's (an upsert of analysis_results fails it).
 */
const RERANK = (id: string, when = '1') => `DELETE FROM track_status WHERE track_rowid = (SELECT rowid FROM tracks WHERE id = ${id}) AND ${when};
  INSERT INTO track_status (track_rowid, rank)
    SELECT t.rowid, ${RANK} FROM tracks t LEFT JOIN track_summary a ON a.track_id = t.id ${JOBS(`track_id = ${id}`)} WHERE t.id = ${id} AND ${when};`;

export const m011TrackStatus: Migration = {
  version: 11,
  name: 'track_status',
  sql: `
CREATE TABLE track_status (
  track_rowid INTEGER PRIMARY KEY,
  rank        INTEGER NOT NULL
);
CREATE INDEX track_status_rank ON track_status (rank);
INSERT INTO track_status (track_rowid, rank)
  SELECT t.rowid, ${RANK} FROM tracks t LEFT JOIN track_summary a ON a.track_id = t.id ${JOBS('track_id IS NOT NULL')};
CREATE TRIGGER track_status_track_insert AFTER INSERT ON tracks BEGIN
  ${RERANK('new.id')}
END;
CREATE TRIGGER track_status_track_update AFTER UPDATE OF status ON tracks BEGIN
  ${RERANK('new.id')}
END;
CREATE TRIGGER track_status_track_delete AFTER DELETE ON tracks BEGIN
  DELETE FROM track_status WHERE track_rowid = old.rowid;
END;
CREATE TRIGGER track_status_summary_insert AFTER INSERT ON track_summary BEGIN
  ${RERANK('new.track_id')}
END;
CREATE TRIGGER track_status_summary_delete AFTER DELETE ON track_summary BEGIN
  ${RERANK('old.track_id')}
END;
CREATE TRIGGER track_status_job_insert AFTER INSERT ON jobs WHEN new.track_id IS NOT NULL BEGIN
  ${RERANK('new.track_id')}
END;
CREATE TRIGGER track_status_job_update AFTER UPDATE OF state, track_id, worker ON jobs WHEN coalesce(new.track_id, old.track_id) IS NOT NULL BEGIN
  ${RERANK('new.track_id')}
  ${RERANK('old.track_id', 'old.track_id IS NOT new.track_id')}
END;
CREATE TRIGGER track_status_job_delete AFTER DELETE ON jobs WHEN old.track_id IS NOT NULL BEGIN
  ${RERANK('old.track_id')}
END;
`,
};
