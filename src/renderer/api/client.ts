import type { EventName, Events, RequestName, RequestParams, RequestResult } from '../../shared/contract';
import { SfaError } from '../../shared/errors';
import type { ConnectionState, DesktopAccess, FileAccess, Transport } from './transport';

/** Params are optional exactly where the contract's schema is optional. */
export type ParamsArg<N extends RequestName> = undefined extends RequestParams<N> ? [params?: RequestParams<N>] : [params: RequestParams<N>];

/** The renderer's one API client: typed requests that throw SfaError, pushed events, files. */
export interface Client {
  request<N extends RequestName>(name: N, ...params: ParamsArg<N>): Promise<RequestResult<N>>;
  on<E extends EventName>(event: E, callback: (payload: Events[E]) => void): () => void;
  onConnection(callback: (state: ConnectionState) => void): () => void;
  files: FileAccess;
  /** Desktop-only actions, or null in a browser. */
  desktop: DesktopAccess | null;
  /**
   * The URL of a registered audio file: the track's own (`source`) or a stem: `sfa serve`'s
   * authenticated route, or Electron's app:// handler (absolute in dev, where the page itself
   * comes from Vite's server).
   */
  mediaUrl(trackId: string, which: string, options?: { download?: boolean }): string;
}

/** `mediaBase`: where /media/... lives when it is not the page's own origin (Electron in dev: app://sfa). */
export function createClient(transport: Transport, options: { mediaBase?: string } = {}): Client {
  const mediaBase = options.mediaBase ?? '';
  return {
    async request(name, ...[params]) {
      const reply = await transport.send(name, params);
      if (!reply.ok) throw new SfaError(reply.error.code, reply.error.message);
      return reply.result as RequestResult<typeof name>;
    },
    on: (event, callback) => transport.on(event, callback),
    onConnection: (callback) => transport.onConnection(callback),
    files: transport.files,
    desktop: transport.desktop ?? null,
    mediaUrl: (trackId, which, options) => `${mediaBase}/media/${encodeURIComponent(trackId)}/${encodeURIComponent(which)}${options?.download ? '?download=1' : ''}`,
  };
}
