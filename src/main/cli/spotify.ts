import type { RequestName, RequestParams, RequestResult } from '../../shared/contract';
import type { Settings } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import type { Engine } from '../engine';
import type { CommandSpec } from './commands';
import { UsageError } from './context';
import { EXIT } from './output';

// commands.ts imports this module: calling through a local helper keeps the import one-way at run time.
async function call<N extends RequestName>(engine: Engine, name: N, params: RequestParams<N>): Promise<RequestResult<N>> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new SfaError(reply.error.code, reply.error.message);
  return reply.result as RequestResult<N>;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function describe(spotify: Settings['spotify']): string {
  if (!spotify?.clientId) return "spotify: spotdl's shared Spotify app (often rate-limited for a day); set your own with --client-id and --client-secret-stdin";
  const where = spotify.secretStore === 'os' ? 'the OS credential store' : 'secrets.json in the data folder (readable only by you)';
  return `spotify: your own app, client id ${spotify.clientId}; secret ${spotify.clientSecretStored ? `stored in ${where}` : 'MISSING (downloads use the shared app)'}`;
}

/**
 * `sfa spotify`: the user's own Spotify app for spotdl (developer.spotify.com -> create an app).
 * The secret is read from stdin (`--client-secret-stdin`) so it stays out of shell history and the
 * process list; `--client-secret VALUE` exists for scripts that have no stdin to spare.
 */
export const spotify: CommandSpec = {
  summary: "your own Spotify app for downloads (spotdl's shared one is often rate-limited): show, set, --clear",
  usage: 'sfa spotify [--client-id ID (--client-secret-stdin | --client-secret SECRET)] [--clear] [--json]',
  options: { 'client-id': { type: 'string' }, 'client-secret': { type: 'string' }, 'client-secret-stdin': { type: 'boolean' }, clear: { type: 'boolean' } },
  allowPositionals: false,
  async run(ctx, values) {
    const clientId = values['client-id'] as string | undefined;
    const fromStdin = values['client-secret-stdin'] === true;
    let clientSecret = values['client-secret'] as string | undefined;
    if (values.clear && (clientId || clientSecret || fromStdin)) throw new UsageError('--clear takes no other option');
    if (fromStdin && clientSecret) throw new UsageError('give the secret once: --client-secret-stdin or --client-secret');
    if ((clientSecret || fromStdin) && !clientId) throw new UsageError('--client-secret needs --client-id');
    if (fromStdin) clientSecret = await readStdin();
    const engine = await ctx.engine();
    const patch = values.clear ? { spotify: { clientId: null } } : clientId ? { spotify: { clientId, ...(clientSecret ? { clientSecret } : {}) } } : null;
    const settings = patch ? await call(engine, 'settings.set', patch) : await call(engine, 'settings.get', {});
    ctx.out.result({ spotify: settings.spotify ?? null }, () => describe(settings.spotify));
    return EXIT.ok;
  },
};
