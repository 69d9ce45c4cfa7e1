import type { RequestName, RequestParams, RequestResult } from '../../shared/contract';
import type { Track } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import type { Engine } from '../engine';
import type { CommandContext } from './context';
import { UsageError } from './context';
import { EXIT, formatDuration, table } from './output';

export interface CommandSpec {
  summary: string;
  usage: string;
  /** parseArgs option definitions for this command. */
  options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;
  allowPositionals: boolean;
  run(ctx: CommandContext, values: Record<string, unknown>, positionals: string[]): Promise<number>;
}

/** Call the engine through the contract, exactly as the UI does, and unwrap the reply. */
export async function call<N extends RequestName>(engine: Engine, name: N, params: RequestParams<N>): Promise<RequestResult<N>> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new SfaError(reply.error.code, reply.error.message);
  return reply.result as RequestResult<N>;
}

/** Open the library read-only when another process (the app, `sfa serve`) holds it. */
async function readEngine(ctx: CommandContext): Promise<Engine> {
  try {
    return await ctx.engine();
  } catch (error) {
    if (error instanceof SfaError && error.code === 'HOME_LOCKED') return ctx.engine({ readonly: true });
    throw error;
  }
}

function trackJson(t: Track) {
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
    analysis: null,
    stems: null,
  };
}

const doctor: CommandSpec = {
  summary: 'check Python, torch and its device, demucs, librosa, ffmpeg, spotdl, yt-dlp, Electron',
  usage: 'sfa doctor [--json]',
  options: {},
  allowPositionals: false,
  async run(ctx) {
    const engine = await readEngine(ctx);
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
    const result = await call(engine, 'library.add', {
      inputs,
      ...(steps ? { steps } : {}),
      ...(typeof values.model === 'string' ? { model: values.model } : {}),
    });
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
    const engine = await readEngine(ctx);
    const { tracks: list } = await call(engine, 'library.list', {});
    ctx.out.result({ tracks: list.map(trackJson) }, () =>
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
  usage: 'sfa serve [--host 127.0.0.1] [--port N]',
  options: { host: { type: 'string' }, port: { type: 'string' } },
  allowPositionals: false,
  async run(ctx, values) {
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`invalid --port ${String(values.port)}`);
    const engine = await ctx.engine();
    const { startServer } = await import('../serve');
    const server = await startServer(engine, { host: typeof values.host === 'string' ? values.host : '127.0.0.1', port });
    process.stdout.write(`${JSON.stringify({ url: server.url, token: server.token })}\n`);
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

export const commands: Record<string, CommandSpec> = { doctor, add, tracks, serve };
