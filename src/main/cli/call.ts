import type { RequestName, RequestParams, RequestResult } from '../../shared/contract';
import { SfaError } from '../../shared/errors';
import type { Engine } from '../engine';

/** Call the engine through the contract, exactly as the UI does, and unwrap the reply. */
export async function call<N extends RequestName>(engine: Pick<Engine, 'api'>, name: N, params: RequestParams<N>): Promise<RequestResult<N>> {
  const reply = await engine.api.handle(name, params);
  if (!reply.ok) throw new SfaError(reply.error.code, reply.error.message);
  return reply.result as RequestResult<N>;
}
