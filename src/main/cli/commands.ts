import { resolve } from 'node:path';
import type { JobState, QueueStats, Track } from '../../shared/domain';
import { JOB_STATE_NAMES } from '../../shared/domain';
import type { Engine } from '../engine';
import { call } from './call';
import type { CommandContext } from './context';
import { UsageError } from './context';
import { EXIT, formatDuration, table } from './output';
import { ATTEMPT_ENDS, followProgress, writeAtomic } from './work';
import { describeCounts, followImport, importForRun } from './run-import';
import { followQueues, PROGRESS_EVERY_S } from './run-progress';
import { models } from './models';
import { tags, withDjExports } from './dj';
import { spotify } from './spotify';
import { cluster, clusterFlag, clusterOption } from './cluster';

export { call } from './call';

export interface CommandSpec {
  summary: string;
  usage: string;
  /** parseArgs option definitions for this command. */
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  allowPositionals: boolean;
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** Job counts over every queue, per state. */
function totals(queues: QueueStats[]): Record<JobState, number> {
  return Object.fromEntries(JOB_STATE_NAMES.map((state) => [state, queues.reduce((n, q) => n + (q.counts[state] ?? 0), 0)])) as Record<JobState, number>;
}

async function trackJson(engine: Engine, t: Track) {
  const detail = await call(engine, 'library.get', { id: t.id });
  return {
    id: t.id,
    title: t.title,
    artist: t.artist,
    source: t.sourceKind,
    path: t.path ?? t.source,
    duration: t.duration,
    sampleRate: t.sampleRate,
    channels: t.channels,
    status: t.status,
    error: t.error,
    analysis: detail.analysis,
    stems: detail.stems,
  };
}

const doctor: CommandSpec = {
  summary: 'check Python, torch and its device, demucs, librosa, ffmpeg, spotdl, yt-dlp, Electron',
  usage: 'sfa doctor [--json]',
  options: {},
  allowPositionals: false,
  async run(ctx) {
    const engine = await ctx.engine();
    const report = await call(engine, 'system.doctor', {});
    ctx.out.result(report, () =>
      table(
        ['check', 'ok', 'version', 'detail / path'],
        report.checks.map((c) => [c.name, c.ok ? 'yes' : 'NO', c.version ?? '', [c.detail, c.path].filter(Boolean).join('  ')]),
      ),
    );
    return report.checks.every((c) => c.ok || c.name === 'electron') ? EXIT.ok : EXIT.failed;
  },
};

const add: CommandSpec = {
  summary: 'import files and folders, or enqueue Spotify/YouTube links, then the pipeline',
  usage: 'sfa add <path|url>... [--steps separate,analyze | --no-pipeline] [--model M] [--json]',
  options: { steps: { type: 'string' }, 'no-pipeline': { type: 'boolean' }, model: { type: 'string' } },
  allowPositionals: true,
  async run(ctx, values, inputs) {
    if (inputs.length === 0) throw new UsageError('add needs at least one file, folder or link');
    if (values.steps !== undefined && values['no-pipeline']) throw new UsageError('use either --steps or --no-pipeline');
    let steps: ('separate' | 'analyze')[] | undefined;
    if (values['no-pipeline']) steps = [];
    else if (typeof values.steps === 'string') {
      const names = values.steps.split(',').map((s) => s.trim()).filter(Boolean);
      const bad = names.find((s) => s !== 'separate' && s !== 'analyze');
      if (bad) throw new UsageError(`unknown step "${bad}" (steps: separate, analyze)`);
      steps = names as ('separate' | 'analyze')[];
    }
    const engine = await ctx.engine();
    const stop = followImport(engine, !ctx.out.json);
    const result = await call(engine, 'library.add', {
      inputs,
      ...(steps ? { steps } : {}),
      ...(typeof values.model === 'string' ? { model: values.model } : {}),
    }).finally(stop);
    ctx.out.result(result, () => {
      const lines = result.tracks.map((t) => `added  ${t.id}  ${t.title}`);
      for (const e of result.errors) lines.push(`error  ${e.input}: ${e.message} [${e.code}]`);
      return lines.join('\n');
    });
    return result.errors.length ? EXIT.usage : EXIT.ok;
  },
};

const tracks: CommandSpec = {
  summary: 'list the library',
  usage: 'sfa tracks [--json]',
  options: {},
  allowPositionals: false,
  async run(ctx) {
    const engine = await ctx.engine();
    const { tracks: list } = await call(engine, 'library.list', {});
    const detailed = [];
    for (const t of list) detailed.push(await trackJson(engine, t));
    ctx.out.result({ tracks: detailed }, () =>
      list.length === 0
        ? 'The library is empty. Add music with: sfa add <file|folder|link>'
        : table(
            ['id', 'title', 'artist', 'duration', 'rate', 'status'],
            list.map((t) => [t.id.slice(0, 8), t.title, t.artist, formatDuration(t.duration), t.sampleRate, t.status]),
          ),
    );
    return EXIT.ok;
  },
};

const serve: CommandSpec = {
  summary: 'serve the UI and the API to a browser on loopback (token-protected)',
  usage: 'sfa serve [--host 127.0.0.1] [--port N] [--cluster ray://HOST:PORT]',
  options: { host: { type: 'string' }, port: { type: 'string' }, ...clusterOption },
  allowPositionals: false,
  async run(ctx, values) {
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${String(values.port)}`);
    const engine = await ctx.engine({ runQueues: true, host: 'serve', cluster: clusterFlag(values) });
    const { startServer } = await import('../serve');
    const server = await startServer(engine, { host: typeof values.host === 'string' ? values.host : '127.0.0.1', port });
    process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token })}\n`);
    void engine.prewarm();
    ctx.out.note(`Open ${server.url}/?token=${server.token} in your browser. Ctrl+C stops.`);
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    return EXIT.ok;
  },
};

const jobs: CommandSpec = {
  summary: 'list jobs with their state, attempts, progress and errors; counts per queue',
  usage: 'sfa jobs [--state S] [--queue Q] [--json]',
  options: { state: { type: 'string' }, queue: { type: 'string' } },
  allowPositionals: false,
  async run(ctx, values) {
    const engine = await ctx.engine();
    // The contract validates the state and queue names (an unknown one is exit 2).
    const list = await call(engine, 'jobs.list', {
      ...(values.state !== undefined ? { state: values.state as JobState } : {}),
      ...(values.queue !== undefined ? { queue: String(values.queue) } : {}),
      limit: 1000,
    });
    const jobsOut = list.jobs.map((j) => ({
      id: j.id, queue: j.queue, worker: j.worker, state: j.state, attempt: j.attempt, maxAttempts: j.maxAttempts,
      priority: j.priority, trackId: j.trackId, progress: j.progress, errors: j.errors, node: j.node ?? null,
    }));
    if (ctx.out.json) {
      ctx.out.result({ jobs: jobsOut }, () => '');
      return EXIT.ok;
    }
    const { queues } = await call(engine, 'queues.list', {});
    const { jobs: failures } = await call(engine, 'jobs.failures', { limit: 5 });
    ctx.out.result({ jobs: jobsOut }, () => {
      const qs = table(
        ['queue', 'limit', 'paused', ...JOB_STATE_NAMES],
        queues.map((q) => [q.name, q.limit, q.paused ? 'yes' : '', ...JOB_STATE_NAMES.map((s) => q.counts[s] ?? 0)]),
      );
      const rows = table(
        ['id', 'queue', 'worker', 'state', 'attempt', 'progress', 'track', 'node', 'last error'],
        list.jobs.map((j) => [j.id, j.queue, j.worker, j.waiting ? 'waiting' : j.state, `${j.attempt}/${j.maxAttempts}`,
          j.progress ? `${Math.round(j.progress.percent)}%` : '', j.trackId?.slice(0, 8), j.node ? `${j.node.ip} (${j.node.id.slice(0, 8)})` : '',
          j.errors.at(-1)?.error.slice(0, 60)]),
      );
      const recent = failures.length
        ? `\n\nrecent failures:\n${failures.map((j) => `  #${j.id} ${j.worker} (${j.state}, attempt ${j.attempt}/${j.maxAttempts}): ${j.errors.at(-1)?.error ?? ''}`).join('\n')}`
        : '';
      return (list.jobs.length ? `${qs}\n\n${rows}` : `${qs}\n\nNo jobs.`) + recent;
    });
    return EXIT.ok;
  },
};

const runCommand: CommandSpec = {
  summary: 'work the queues (jobs enqueued by add, or the files and folders given, imported as a stream), with progress per queue',
  usage: 'sfa run [<path|url>...] [--until-idle] [--cluster ray://HOST:PORT] [--progress-every SECONDS] [--json]',
  options: { 'until-idle': { type: 'boolean' }, 'progress-every': { type: 'string' }, ...clusterOption },
  allowPositionals: true,
  async run(ctx, values, inputs) {
    const everyS = values['progress-every'] === undefined ? PROGRESS_EVERY_S : Number(values['progress-every']);
    if (!Number.isFinite(everyS) || everyS <= 0) throw new UsageError(`invalid --progress-every ${String(values['progress-every'])} (seconds, more than 0)`);
    const engine = await ctx.engine({ runQueues: true, cluster: clusterFlag(values) });
    const counts: Record<string, number> = Object.fromEntries(ATTEMPT_ENDS.map((state) => [state, 0]));
    const off = engine.events.subscribe((event, payload) => {
      const state = event === 'job:changed' ? (payload as { job: { state: JobState } }).job.state : null;
      if (state && ATTEMPT_ENDS.includes(state)) counts[state] = (counts[state] ?? 0) + 1;
    });
    const stop = followProgress(engine, !ctx.out.json);
    const stopQueues = followQueues(engine, { enabled: !ctx.out.json, everyS });
    const imported = inputs.length ? await importForRun(engine, ctx, inputs) : undefined;
    // Ctrl+C (or SIGTERM from a batch system) stops the work: running jobs go back to the queue
    // when the engine closes, and the summary is still printed.
    let onSignal!: () => void;
    const signalled = new Promise<void>((done) => (onSignal = done));
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (values['until-idle']) await Promise.race([call(engine, 'queues.waitIdle', { pollMs: 1000 }), signalled]);
    else {
      ctx.out.note('Working the queues. Ctrl+C stops (running jobs are handed back to the queue).');
      await signalled;
    }
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    stop();
    await stopQueues();
    off();
    const remaining = totals((await call(engine, 'queues.list', {})).queues);
    ctx.out.result({ ran: counts, remaining, ...(imported ? { imported } : {}) }, () =>
      (imported ? `import: ${describeCounts(imported)}\n` : '') +
      `ran: ${Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ')}; left: ${remaining.scheduled} scheduled, ${remaining.retryable} retrying`,
    );
    return counts.discarded ? EXIT.failed : EXIT.ok;
  },
};

const analyze: CommandSpec = {
  summary: 'analyse a file or track now (tempo, key, energy, spectral), through the scheduler, and wait',
  usage: 'sfa analyze <file|trackId> [--json]',
  options: {},
  allowPositionals: true,
  async run(ctx, _values, inputs) {
    if (inputs.length !== 1) throw new UsageError('analyze takes one file or track id');
    const engine = await ctx.engine({ runQueues: true });
    const stop = followProgress(engine, !ctx.out.json);
    const done = await call(engine, 'analysis.run', { input: inputs[0]! }).finally(stop);
    const track = { id: done.trackId, title: done.title };
    const result = done.result;
    const grid = result.grid;
    ctx.out.result(result, () =>
      [
        `track     ${track.title} (${track.id})`,
        `tempo     ${result.tempo.bpm.toFixed(2)} BPM (confidence ${result.tempo.confidence.toFixed(2)}${result.tempo.stable === false ? ', not steady' : ''})`,
        ...(grid?.meter ? [`grid      ${grid.meter}, ${grid.beats.length} beats, first downbeat ${grid.first_downbeat?.toFixed(3)} s`] : []),
        `key       ${result.key.key} / ${result.key.camelot} (confidence ${result.key.confidence.toFixed(2)})`,
        `loudness  ${result.energy.loudness_lufs?.toFixed(1) ?? '—'} LUFS`,
        `source    ${result.source}`,
      ].join('\n'),
    );
    return EXIT.ok;
  },
};

const separate: CommandSpec = {
  summary: 'separate a file or track into stems now, through the scheduler, and wait',
  usage: 'sfa separate <file|trackId> [--model M] [--model-repo DIR] [--device auto|cpu|cuda|mps] [--format wav|flac|mp3] [--shifts N] [--overlap X] [--json]',
  options: {
    model: { type: 'string' }, 'model-repo': { type: 'string' }, device: { type: 'string' }, format: { type: 'string' },
    shifts: { type: 'string' }, overlap: { type: 'string' }, 'two-stems': { type: 'string' }, instrumental: { type: 'boolean' },
  },
  allowPositionals: true,
  async run(ctx, values, inputs) {
    if (inputs.length !== 1) throw new UsageError('separate takes one file or track id');
    const number = (name: string) => (values[name] === undefined ? undefined : Number(values[name]));
    const engine = await ctx.engine({ runQueues: true });
    const stop = followProgress(engine, !ctx.out.json);
    // Settings not given come from the stored ones (the app's Settings), then the built-in defaults;
    // the contract validates every value (names, device, format, ranges).
    const done = await call(engine, 'separation.run', {
      input: inputs[0]!,
      ...(values.model !== undefined ? { model: String(values.model) } : {}),
      ...(values.device !== undefined ? { device: values.device as 'auto' } : {}),
      ...(values.format !== undefined ? { format: values.format as 'wav' } : {}),
      ...(values.shifts !== undefined ? { shifts: number('shifts') } : {}),
      ...(values.overlap !== undefined ? { overlap: number('overlap') } : {}),
      ...(values['model-repo'] !== undefined ? { repo: resolve(String(values['model-repo'])) } : {}),
      ...(values['two-stems'] !== undefined ? { twoStems: String(values['two-stems']) } : {}),
      ...(values.instrumental ? { instrumental: true } : {}),
    }).finally(stop);
    const result = { trackId: done.trackId, model: done.model, device: done.device, stems: done.stems };
    ctx.out.result(result, () => table(['stem', 'file'], Object.entries(result.stems)));
    return EXIT.ok;
  },
};

const exportCommand: CommandSpec = {
  summary: 'export the analysis of every analysed track as CSV or JSON',
  usage: 'sfa export analysis [--format csv|json] [--out FILE]',
  options: { format: { type: 'string' }, out: { type: 'string' } },
  allowPositionals: true,
  async run(ctx, values, positionals) {
    if (positionals[0] !== 'analysis' || positionals.length !== 1) throw new UsageError('what to export: sfa export analysis');
    const engine = await ctx.engine();
    const { content } = await call(engine, 'export.analysis', { format: ((values.format as string | undefined) ?? 'csv') as 'csv' });
    if (typeof values.out === 'string') {
      const path = writeAtomic(values.out, content);
      ctx.out.note(`wrote ${path}`);
    } else process.stdout.write(content);
    return EXIT.ok;
  },
};

export const commands: Record<string, CommandSpec> = {
  doctor, add, tracks, analyze, separate, run: runCommand, jobs, export: withDjExports(exportCommand), serve,
  models, tags,
  spotify,
  cluster,
};
