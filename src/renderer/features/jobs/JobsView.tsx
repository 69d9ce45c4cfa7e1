import { memo, useEffect, useState } from 'react';
import type { JobInfo, QueueStats } from '../../../shared/domain';
import { isUnfinished, PENDING_STATES, RUNNING_STATE } from '../../../shared/job-states';
import { useActions } from '../../actions/context';
import { estimateEta, formatEta } from '../../lib/pipeline';
import { useJobsStore } from '../../stores';

const STATE_LABELS: Record<JobInfo['state'], string> = {
  scheduled: 'scheduled',
  available: 'queued',
  executing: 'running',
  retryable: 'will retry',
  completed: 'done',
  discarded: 'failed',
  cancelled: 'cancelled',
};

function QueueCard({ q }: { q: QueueStats }) {
  const actions = useActions();
  const waiting = PENDING_STATES.reduce((n, s) => n + q.counts[s], 0);
  return (
    <div className={`queue-card${q.paused ? ' paused' : ''}`} data-queue={q.name}>
      <div className="queue-head">
        <strong className="queue-name">{q.name}</strong>
        {q.paused && <span className="tag warn-tag">paused</span>}
      </div>
      <div className="queue-counts small">
        <span>{q.running} running</span> · <span>{waiting} waiting</span> · <span className="muted">{q.counts.completed} done</span>
        {q.counts.discarded > 0 && <span className="bad-text"> · {q.counts.discarded} failed</span>}
      </div>
      <div className="queue-controls">
        <label className="small">
          Concurrency{' '}
          <input
            type="number"
            min={1}
            max={16}
            aria-label={`${q.name} concurrency`}
            value={q.limit}
            onChange={(e) => {
              const n = Number(e.target.value);
              if (Number.isInteger(n) && n >= 1 && n <= 16) void actions.queue(q.name, { scale: n });
            }}
          />
        </label>
        <button type="button" className="button small-button" onClick={() => void actions.queue(q.name, q.paused ? 'resume' : 'pause')}>
          {q.paused ? `Resume ${q.name}` : `Pause ${q.name}`}
        </button>
      </div>
    </div>
  );
}

function useNow(ms: number): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

const JobRow = memo(function JobRow({ job, title, first, now }: { job: JobInfo; title: string; first: { percent: number; at: number } | undefined; now: number }) {
  const actions = useActions();
  const percent = job.progress?.percent ?? (job.state === 'completed' ? 100 : 0);
  const running = job.state === RUNNING_STATE;
  // a job that put itself back to wait (e.g. "cluster unreachable: waiting (retrying in 10s)") says why
  const snoozed = job.state === 'scheduled' && !job.waiting;
  const eta = running ? estimateEta(first, percent, now) : null;
  // The device a separation actually used (and why) is in its result; before that, what was asked.
  const outcome = (job.result ?? {}) as { device?: string; deviceReason?: string | null };
  const device = (outcome.deviceReason ?? outcome.device ?? job.meta.device ?? job.args.device) as string | undefined;
  const model = job.args.model as string | undefined;
  const error = job.errors[job.errors.length - 1];
  return (
    <li className={`job job-${job.state}`} data-job-id={job.id} data-state={job.state} aria-label={`Job ${job.id} ${job.worker} ${title}`}>
      <div className="job-main">
        <div className="job-title">
          <span className="job-worker">{job.worker}</span>
          <span className="job-track">{title}</span>
          {model && <span className="tag">{model}</span>}
          {device && <span className="tag">device {device}</span>}
          {job.node && (
            <span className="tag job-node" title={`Ray node ${job.node.id}`}>
              on {job.node.ip} ({job.node.id.slice(0, 8)})
            </span>
          )}
        </div>
        <div className="job-meta small muted">
          <span className={`job-state state-${job.state}`}>{job.waiting && !running ? 'waiting for the previous step' : STATE_LABELS[job.state]}</span>
          <span>
            attempt {job.attempt}/{job.maxAttempts}
          </span>
          {(running || snoozed) && job.progress?.message && <span className="job-stage">{job.progress.message}</span>}
          {eta !== null && <span className="job-eta">{formatEta(eta)}</span>}
          <span>#{job.id}</span>
        </div>
        {(running || (job.progress && isUnfinished(job.state))) && (
          <div className="bar job-bar" role="progressbar" aria-label={`Job ${job.id} progress`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(percent)}>
            <div className="fill" style={{ width: `${percent}%` }} />
          </div>
        )}
        {error && (job.state === 'discarded' || job.state === 'retryable' || job.state === 'cancelled') && (
          <div className="job-error small" title={error.at}>
            {error.code ? `${error.code}: ` : ''}
            {error.error}
          </div>
        )}
      </div>
      <div className="job-actions">
        {running && <span className="percent">{Math.round(percent)}%</span>}
        {isUnfinished(job.state) && (
          <button type="button" className="button small-button" onClick={() => void actions.cancelJob(job.id)}>
            Cancel
          </button>
        )}
        {(job.state === 'discarded' || job.state === 'cancelled') && (
          <button type="button" className="button small-button" onClick={() => void actions.retryJob(job.id)}>
            Retry
          </button>
        )}
      </div>
    </li>
  );
});

/** Queues (pause, resume, concurrency) and every job with live progress, ETA, attempts, errors. */
export function JobsView() {
  const jobs = useJobsStore((s) => s.jobs);
  const queues = useJobsStore((s) => s.queues);
  const firstSeen = useJobsStore((s) => s.firstSeen);
  const status = useJobsStore((s) => s.status);
  // Asked of the engine by track id (actions/jobs.ts): the library table loads only a window.
  const titles = useJobsStore((s) => s.titles);
  const now = useNow(1000);
  const [showDone, setShowDone] = useState(true);
  const list = (Object.values(jobs) as JobInfo[]).sort((a, b) => {
    const ra = a.state === RUNNING_STATE ? 0 : isUnfinished(a.state) ? 1 : 2;
    const rb = b.state === RUNNING_STATE ? 0 : isUnfinished(b.state) ? 1 : 2;
    return ra - rb || (ra === 2 ? b.id - a.id : a.id - b.id);
  });
  const shown = showDone ? list.slice(0, 300) : list.filter((j) => isUnfinished(j.state));
  const active = list.filter((j) => isUnfinished(j.state)).length;

  return (
    <section className="view jobs-view" aria-labelledby="jobs-heading">
      <header className="view-header">
        <div>
          <h1 id="jobs-heading">Jobs</h1>
          <p className="muted small">{status === 'ready' ? `${active} active · ${list.length} shown` : '\u00a0'}</p>
        </div>
        <label className="small toggle">
          <input type="checkbox" checked={showDone} onChange={(e) => setShowDone(e.target.checked)} /> Show finished jobs
        </label>
      </header>
      <div className="view-body">
        <div className="queues" aria-label="Queues">
          {queues.map((q) => (
            <QueueCard key={q.name} q={q} />
          ))}
        </div>
        {shown.length === 0 ? (
          <div className="empty-state small-empty">
            <h2>No jobs {showDone ? 'yet' : 'running'}</h2>
            <p>Add tracks in the Library: each one is separated into stems and analysed here, in the background.</p>
          </div>
        ) : (
          <ul className="job-list" aria-label="Jobs">
            {shown.map((j) => (
              <JobRow key={j.id} job={j} title={(j.trackId && titles[j.trackId]) || (j.args.url as string | undefined) || '—'} first={firstSeen[j.id]} now={now} />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
