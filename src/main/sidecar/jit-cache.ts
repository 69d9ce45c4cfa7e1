import { existsSync, renameSync, rmSync } from 'node:fs';
import type { Logger } from '../log';

/**
 * numba's compiled-code cache for the sidecars (python/sfa_sidecar/jit_cache.py keys a folder per
 * Python environment under this root). One bad entry there crashes every sidecar that loads it,
 * in every library, until the folder goes (seen on this project's CI machine: every analysis died
 * with SIGSEGV). So after a sidecar dies in native code the root is moved aside: the job's retry,
 * and every sidecar after it, compiles afresh (20-30 s once) instead of crashing again.
 */
export class JitCache {
  constructor(
    readonly root: string,
    private readonly logger?: Logger,
    /** A user's own NUMBA_CACHE_DIR (numba's variable, kept in Python): the folder to move aside then. */
    private readonly explicitDir?: string,
  ) {}

  /** The variables a sidecar needs: numba's own NUMBA_CACHE_DIR, when a user set it, wins in Python. */
  get vars(): Record<string, string> {
    return { SFA_NUMBA_CACHE_ROOT: this.root };
  }

  /** Where the last moved-aside cache is kept (one, replaced each time: to study, not to grow). */
  get quarantine(): string {
    return `${this.root}.crashed`;
  }

  /** Move the cache aside after a native crash; never throws (a crash must not become two). */
  quarantineAfter(reason: string): void {
    const target = this.explicitDir || this.root;
    if (!existsSync(target)) return;
    try {
      rmSync(this.quarantine, { recursive: true, force: true });
      renameSync(target, this.quarantine);
      this.logger?.warn(`sidecar ${reason}: numba's compiled-code cache moved to ${this.quarantine}; the next analysis compiles afresh`);
    } catch (error) {
      this.logger?.warn(`sidecar ${reason}: could not move numba's cache ${target} aside: ${(error as Error).message}`);
    }
  }
}
