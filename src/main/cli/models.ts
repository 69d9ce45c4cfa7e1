import type { ModelInfo } from '../../shared/contract';
import { call } from './call';
import type { CommandSpec } from './commands';
import { UsageError } from './context';
import { EXIT, table } from './output';

function size(m: ModelInfo): string {
  if (m.kind === 'dsp') return 'built in';
  if (m.installed && m.bytes) return `${(m.bytes / 1e6).toFixed(m.bytes < 1e7 ? 1 : 0)} MB`;
  return m.sizeMb === null ? '' : `~${m.sizeMb} MB`;
}

function rows(models: ModelInfo[]): string {
  return table(
    ['model', 'installed', 'size', 'stems', 'notes'],
    models.map((m) => [
      m.name,
      m.installed ? 'yes' : m.partialBytes ? `partial ${(m.partialBytes / 1e6).toFixed(0)} MB` : 'no',
      size(m),
      m.stems?.length ?? '',
      m.source === 'local' ? 'imported' : (m.quality ?? '').slice(0, 70),
    ]),
  );
}

/** `sfa models`: the model store (list, download, import, rm). */
export const models: CommandSpec = {
  summary: 'separation models: list, download NAME, import PATH, rm NAME',
  usage: 'sfa models [list | download NAME | import PATH [--name N] | rm NAME] [--json]',
  options: { name: { type: 'string' } },
  allowPositionals: true,
  async run(ctx, values, positionals) {
    const [action = 'list', arg, ...rest] = positionals;
    if (rest.length) throw new UsageError(`models ${action} takes one argument`);
    if (values.name !== undefined && action !== 'import') throw new UsageError('--name applies to models import only');
    const needsArg = action === 'download' || action === 'import' || action === 'rm' || action === 'remove';
    if (needsArg && !arg) throw new UsageError(`models ${action} needs ${action === 'import' ? 'a file or folder' : 'a model name'}`);
    if (!needsArg && arg) throw new UsageError(`models ${action} takes no argument`);
    const engine = await ctx.engine();
    switch (action) {
      case 'list': {
        const result = await call(engine, 'models.list', {});
        ctx.out.result(result, () => `${rows(result.models)}\n\nModels live in ${result.dir}`);
        return EXIT.ok;
      }
      case 'download': {
        let shown = -1;
        const off = engine.events.subscribe((event, payload) => {
          if (event !== 'models:progress' || ctx.out.json || !process.stderr.isTTY) return;
          const p = payload as { name: string; percent: number; bytes: number; total: number | null };
          const percent = Math.floor(p.percent);
          if (percent === shown) return;
          shown = percent;
          const mb = `${(p.bytes / 1e6).toFixed(1)}${p.total ? ` / ${(p.total / 1e6).toFixed(1)}` : ''} MB`;
          process.stderr.write(`\rdownloading ${p.name} ${percent}%  ${mb}   `);
        });
        try {
          ctx.out.note(`downloading ${arg} (resumes where an earlier download stopped)`);
          const result = await call(engine, 'models.download', { name: arg! });
          if (shown >= 0) process.stderr.write('\n');
          ctx.out.result(result, () => (result.downloaded ? `installed ${result.model.name} (${size(result.model)})` : `${result.model.name} is already installed`));
        } finally {
          off();
        }
        return EXIT.ok;
      }
      case 'import': {
        const result = await call(engine, 'models.import', { path: arg!, ...(typeof values.name === 'string' ? { name: values.name } : {}) });
        ctx.out.result(result, () => `imported ${result.imported.join(', ')}\n${rows(result.models)}`);
        return EXIT.ok;
      }
      case 'rm':
      case 'remove': {
        const result = await call(engine, 'models.remove', { name: arg! });
        ctx.out.result(result, () => `removed ${result.removed} (${(result.freedBytes / 1e6).toFixed(1)} MB freed)`);
        return EXIT.ok;
      }
      default:
        throw new UsageError(`unknown models action "${action}" (list, download, import, rm)`);
    }
  },
};
