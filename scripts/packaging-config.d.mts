/** Types of scripts/packaging-config.mjs. */
export declare function runtimeTargets(config: unknown, platform: string, argv?: string[]): string[];
export declare function checkBuilderConfig(config: unknown, root: string): { ok: boolean; what: string }[];
