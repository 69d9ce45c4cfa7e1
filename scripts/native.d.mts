/** Types of scripts/native.mjs (better-sqlite3 built for Electron, beside the Node build). */
export declare function nativeCacheDir(appRoot?: string): string;
export declare function electronSqlitePath(electronVersion: string, options?: { dir?: string; platform?: string; arch?: string }): string;
export declare function missingElectronSqliteMessage(electronVersion: string): string;
export declare function buildElectronSqlite(electronVersion: string, target: string, options?: { run?: unknown }): string | null;
export declare function desktopBlocker(options: { electronPath: string | null; hasDisplay: boolean; electronVersion?: string; sqlitePresent: boolean }): string | null;
