/**
 * DJ-software commands (DESIGN.md 4.1): `sfa tags write|restore`, `sfa export
 * rekordbox|traktor|m3u|stems`. Each only calls the engine's contract.
 */
import { resolve } from 'node:path';
import type { Skipped } from '../../shared/dj';
import type { KeyNotation } from '../../shared/domain';
import type { Engine } from '../engine';
import { call, type CommandSpec } from './commands';
import { UsageError, type CommandContext } from './context';
import { EXIT } from './output';

const NOTATIONS: readonly KeyNotation[] = ['standard', 'camelot', 'openkey'];
const COLLECTIONS = { rekordbox: 'export.rekordbox', traktor: 'export.traktor', m3u: 'export.m3u' } as const;
const STEM_FORMATS = ['stem.mp4', 'wav', 'flac', 'mp3'] as const;

function skippedLines(skipped: Skipped[]): string[] {
  return skipped.map((s) => `skipped  ${s.title ?? s.trackId}: ${s.reason} [${s.code}]`);
}

/** Progress on stderr for people at a terminal (never with --json). */
function followDjProgress(engine: Engine, ctx: CommandContext): () => void {
  if (ctx.out.json || !process.stderr.isTTY) return () => {};
  const stop = engine.events.subscribe((event, payload) => {
    if (event !== 'dj:progress') return;
    const p = payload as { done: number; total: number };
    process.stderr.write(`\r${p.done}/${p.total}`);
  });
  return () => {
    stop();
    process.stderr.write('\r\x1b[K');
  };
}

/**
 * TRACK arguments: track ids, or the paths of files in the library (matched to their tracks).
 * A path that is no track's file is refused: nothing outside the library is ever touched.
 */
async function trackIds(engine: Engine, args: string[]): Promise<{ ids?: string[] }> {
  if (!args.length) return {};
  const { tracks } = await call(engine, 'library.list', {});
  const byId = new Set(tracks.map((t) => t.id));
  const byPath = new Map(tracks.filter((t) => t.path).map((t) => [resolve(t.path!), t.id]));
  const ids = args.map((arg) => {
    if (byId.has(arg)) return arg;
    const id = byPath.get(resolve(arg));
    if (id) return id;
    if (/[\\/.]/.test(arg)) throw new UsageError(`${arg} is not a file of a track in the library: add it first (sfa add), then use it here`);
    return arg; // an unknown id: the engine lists it as skipped
  });
  return { ids };
}

async function withProgress<T>(ctx: CommandContext, work: (engine: Engine) => Promise<T>): Promise<T> {
  const engine = await ctx.engine();
  const stop = followDjProgress(engine, ctx);
  try {
    return await work(engine);
  } finally {
    stop();
  }
}

export const tags: CommandSpec = {
  summary: 'write BPM, key and energy into the audio files\' tags, or restore the values they replaced',
  usage: 'sfa tags write|restore [TRACK...] [--key-notation standard|camelot|openkey] [--json]',
  options: { 'key-notation': { type: 'string' } },
  allowPositionals: true,
  async run(ctx, values, positionals) {
    const [action, ...ids] = positionals;
    if (action !== 'write' && action !== 'restore') throw new UsageError('what to do: sfa tags write or sfa tags restore');
    const notation = values['key-notation'] as string | undefined;
    if (notation !== undefined && !NOTATIONS.includes(notation as KeyNotation)) throw new UsageError(`unknown key notation "${notation}" (${NOTATIONS.join(', ')})`);
    if (notation !== undefined && action === 'restore') throw new UsageError('--key-notation applies to tags write');
    const result = await withProgress(ctx, async (engine) => {
      const selection = await trackIds(engine, ids);
      return action === 'write'
        ? call(engine, 'tags.write', { ...selection, ...(notation ? { keyNotation: notation as KeyNotation } : {}) })
        : call(engine, 'tags.restore', selection);
    });
    ctx.out.result(result, () => [...result.files.map((f) => `${action === 'write' ? 'tagged' : 'restored'}  ${f}`), ...skippedLines(result.skipped)].join('\n'));
    return result.written === 0 && result.skipped.length ? EXIT.failed : EXIT.ok;
  },
};

/** `sfa export rekordbox|traktor|m3u|stems ...`; `analysis` stays with the command it wraps. */
export function withDjExports(analysis: CommandSpec): CommandSpec {
  return {
    summary: `${analysis.summary}; or a rekordbox/Traktor collection, an M3U8 playlist, stems or NI Stems files`,
    usage: `${analysis.usage}\n       sfa export rekordbox|traktor|m3u --out FILE [TRACK...]\n       sfa export stems --format stem.mp4|wav|flac|mp3 --out DIR [TRACK...] [--codec aac|alac]`,
    options: { ...analysis.options, codec: { type: 'string' } },
    allowPositionals: true,
    async run(ctx, values, positionals) {
      const [what, ...ids] = positionals;
      const out = values.out as string | undefined;
      if (what && what in COLLECTIONS) {
        if (!out) throw new UsageError(`export ${what} needs --out FILE`);
        if (values.format !== undefined || values.codec !== undefined) throw new UsageError(`export ${what} takes no --format or --codec`);
        const result = await withProgress(ctx, async (engine) => call(engine, COLLECTIONS[what as keyof typeof COLLECTIONS], { ...(await trackIds(engine, ids)), out }));
        ctx.out.result(result, () => [`wrote ${result.file} (${result.written} tracks)`, ...skippedLines(result.skipped)].join('\n'));
        return EXIT.ok;
      }
      if (what === 'stems') {
        const format = values.format as string | undefined;
        if (!format || !(STEM_FORMATS as readonly string[]).includes(format)) throw new UsageError(`export stems needs --format ${STEM_FORMATS.join('|')}`);
        if (!out) throw new UsageError('export stems needs --out DIR');
        const codec = values.codec as string | undefined;
        if (codec !== undefined && (format !== 'stem.mp4' || (codec !== 'aac' && codec !== 'alac'))) throw new UsageError('--codec aac|alac applies to --format stem.mp4');
        const result = await withProgress(ctx, async (engine) =>
          call(engine, 'export.stemFiles', { ...(await trackIds(engine, ids)), format: format as (typeof STEM_FORMATS)[number], dir: out, ...(codec ? { codec: codec as 'aac' | 'alac' } : {}) }),
        );
        ctx.out.result({ files: result.files, skipped: result.skipped }, () => [...result.files.map((f) => `wrote ${f}`), ...skippedLines(result.skipped)].join('\n'));
        return result.files.length === 0 && result.skipped.length ? EXIT.failed : EXIT.ok;
      }
      if (values.codec !== undefined) throw new UsageError('--codec applies to export stems');
      return analysis.run(ctx, values, positionals);
    },
  };
}
