import { createEngine, type Engine } from '../engine';
import { defaultHome } from '../home';
import { createLogger } from '../log';
import { join, resolve } from 'node:path';
import type { Output } from './output';

export interface CommandContext {
  home: string;
  out: Output;
  /**
   * Open the engine for this command. `runQueues` takes the data folder's single-instance lock
   * and works the queues in this process; without it the command only reads and enqueues, which
   * is safe beside a running app.
   */
  engine(options?: { runQueues?: boolean; host?: 'cli' | 'serve'; cluster?: string }): Promise<Engine>;
  /** Close the engine if this command opened one. */
  close(): Promise<void>;
}

export class UsageError extends Error {
  readonly code = 'USAGE';
}

export function commandContext(homeFlag: string | undefined, out: Output): CommandContext {
  const home = homeFlag ? resolve(homeFlag) : defaultHome();
  let opened: Engine | undefined;
  return {
    home,
    out,
    async engine(options = {}) {
      if (opened) return opened;
      // Logs never reach stdout; on a TTY without --json, warnings show on stderr.
      const logger = createLogger({ file: join(home, 'logs', 'cli.log'), consoleLevel: out.json ? 'silent' : 'warn' });
      opened = await createEngine({ home, host: options.host ?? 'cli', logger, runQueues: options.runQueues, cluster: { address: options.cluster ?? null } });
      return opened;
    },
    async close() {
      await opened?.close();
    },
  };
}
