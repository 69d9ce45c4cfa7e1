/**
 * The `sfa` command line (DESIGN.md 4.1): a thin host over the engine's contract.
 * stdout carries only results (JSON with --json); logs and notes go to stderr or the log file.
 */
import { parseArgs } from 'node:util';
import { commandContext, UsageError } from './cli/context';
import { commands } from './cli/commands';
import { createOutput, EXIT } from './cli/output';

const GLOBAL_OPTIONS = {
  home: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(): string {
  const lines = [
    'Sound Forge Alchemy: stems, tempo, key and energy for your music.',
    '',
    'usage: sfa [--home DIR] <command> [options] [--json]',
    '',
    'commands:',
    ...Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`),
    '',
    'global options:',
    '  --home DIR  where the library, media, models and logs live (env SFA_HOME; default: the app data folder)',
    '  --json      print only JSON on stdout',
    '  --help      this help, or `sfa <command> --help`',
    '',
    'exit codes: 0 success, 1 the work failed, 2 bad usage or rejected input',
  ];
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const name = argv.find((a) => !a.startsWith('-') && argv[argv.indexOf(a) - 1] !== '--home');
  const json = argv.includes('--json');
  const out = createOutput(json);
  if (!name) {
    if (argv.includes('--help') || argv.includes('-h')) {
      process.stdout.write(`${usage()}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`${usage()}\n`);
    return EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    return out.fail(Object.assign(new UsageError(`unknown command "${name}". Run sfa --help.`), { code: 'USAGE' }));
  }
  const rest = argv.filter((a, i) => !(a === name && i === argv.indexOf(name)));
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...GLOBAL_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    return out.fail({ code: 'USAGE', message: `${(error as Error).message}\nusage: ${command.usage}` });
  }
  if (parsed.values.help) {
    process.stdout.write(`usage: ${command.usage}\n\n${command.summary}\n`);
    return EXIT.ok;
  }
  if (!command.allowPositionals && parsed.positionals.length) {
    return out.fail({ code: 'USAGE', message: `unexpected argument "${parsed.positionals[0]}"\nusage: ${command.usage}` });
  }
  const ctx = commandContext(parsed.values.home as string | undefined, out);
  try {
    return await command.run(ctx, parsed.values as Record<string, unknown>, parsed.positionals);
  } catch (error) {
    if (error instanceof UsageError) return out.fail({ code: 'USAGE', message: `${error.message}\nusage: ${command.usage}` });
    return out.fail(error);
  } finally {
    await ctx.close();
  }
}
