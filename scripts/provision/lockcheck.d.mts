/** Types of scripts/provision/lockcheck.mjs. */
import type { LockTarget } from './index.d.mts';

export interface LockCheck {
  name: string;
  verified: string[];
  errors: string[];
  sdistOnly: string[];
  notVerified: string[];
  unreachable: string[];
}
export declare function checkLock(name: string, text: string, options?: { fetchImpl?: typeof fetch; concurrency?: number }): Promise<LockCheck>;
export declare function parseWheel(filename: string): { name: string; version: string; python: string[]; abi: string[]; platforms: string[] } | null;
export declare function platformFits(tag: string, target: LockTarget): boolean;
export declare function pythonFits(wheel: { python: string[]; abi: string[] }): boolean;
export declare function resolveLock(python: string, lockFile: string, target: LockTarget): { ok: boolean; platform: string; installs: number; output: string };
