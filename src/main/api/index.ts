import type { z } from 'zod';
import {
  isRequestName,
  requests,
  type Reply,
  type RequestName,
  type RequestResult,
} from '../../shared/contract';
import { SfaError, toErrorInfo } from '../../shared/errors';
import type { Logger } from '../log';

export type Handlers = {
  [N in RequestName]: (params: z.output<(typeof requests)[N]['params']>) => Promise<RequestResult<N>> | RequestResult<N>;
};

export interface Api {
  /** Validate and run one request from any transport; never throws, always a Reply. */
  handle(name: unknown, params: unknown): Promise<Reply>;
}

const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text);

export function createApi(handlers: Handlers, logger?: Logger): Api {
  return {
    async handle(name, params) {
      try {
        if (!isRequestName(name)) throw new SfaError('UNKNOWN_REQUEST', `Unknown request ${JSON.stringify(String(name)).slice(0, 80)}.`);
        const parsed = requests[name].params.safeParse(params);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
          // Bounded: zod lists every unknown key, and a hostile payload can have a million.
          const why = clip(issue?.message ?? 'does not match the contract', 300);
          throw new SfaError('BAD_REQUEST', `Invalid ${name} request${clip(where, 200)}: ${why}.`);
        }
        const handler = handlers[name] as (p: unknown) => unknown;
        return { ok: true, result: await handler(parsed.data) };
      } catch (error) {
        const info = toErrorInfo(error);
        if (info.code === 'INTERNAL') logger?.error(`request ${String(name)} failed: ${(error as Error)?.stack ?? info.message}`);
        return { ok: false, error: info };
      }
    },
  };
}
