import { asErrorCode, SfaError } from '../../shared/errors';
import type { Logger } from '../log';
import { SidecarClient } from './client.mjs';
import { pythonExists, type PythonEnvironment } from './environment';
import { parseMessage, PROTOCOL_VERSION, type HelloMessage } from './protocol';

export interface RequestOptions {
  signal?: AbortSignal;
  /** `fraction` in [0, 1], as the sidecar reports it. */
  onProgress?: (fraction: number, message: string) => void;
  /** Fail with SIDECAR_TIMEOUT (and kill the process) when no reply comes in time. */
  timeoutMs?: number;
}

export interface SidecarOptions {
  env: PythonEnvironment;
  /** Extra environment variables (NUMBA_CACHE_DIR, thread counts...); `undefined` removes one. */
  vars?: Record<string, string | undefined>;
  args?: string[];
  logger?: Logger;
  helloTimeoutMs?: number;
  /** After a cancel, how long the op may take to stop before the process is killed. */
  cancelGraceMs?: number;
  /** The process died in native code (SIGSEGV...), not by our kill: `reason` says how. */
  onNativeCrash?: (reason: string) => void;
}

/**
 * One running `python -m sfa_sidecar` for the engine: the shared JSON-lines client (client.mjs,
 * also used by provisioning) with the engine's typed errors, protocol check and log.
 */
export class SidecarProcess extends SidecarClient<HelloMessage> {
  constructor(options: SidecarOptions) {
    const { env, logger } = options;
    if (!pythonExists(env)) {
      throw new SfaError(
        'SIDECAR_UNAVAILABLE',
        `The Python environment is missing (${env.python}). Run \`npm install\` (or \`npm run setup\`) to create it, or set SFA_PYTHON.`,
      );
    }
    super({
      python: env.python,
      packageRoot: env.packageRoot,
      args: options.args,
      env: options.vars,
      helloTimeoutMs: options.helloTimeoutMs,
      cancelGraceMs: options.cancelGraceMs,
      makeError: (code, message) => new SfaError(asErrorCode(code), message),
      parse: parseMessage,
      checkHello: (hello) =>
        hello.protocol === PROTOCOL_VERSION
          ? null
          : `The Python sidecar speaks protocol ${String(hello.protocol)}, the app ${PROTOCOL_VERSION}: its files are from another version. Reinstall the app or run \`npm run setup\`.`,
      onStderrLine: (line, pid) => logger?.debug(`[sidecar ${pid}] ${line}`),
      onStrayError: (message) => logger?.warn(`sidecar: ${message.code} ${message.message}`),
      onNativeCrash: (reason, pid) => {
        logger?.error(`sidecar ${pid} ${reason}`);
        options.onNativeCrash?.(reason);
      },
    });
  }

  override request<T = unknown>(op: string, params: Record<string, unknown>, options: RequestOptions = {}): Promise<T> {
    return super.request<T>(op, params, options);
  }
}
