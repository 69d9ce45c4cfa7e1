/** Types of scripts/browser.mjs (the Chromium for the end-to-end tests). */
export interface BrowserChoice {
  executablePath: string;
  source: 'SFA_CHROMIUM' | 'system' | 'playwright';
}

export interface BrowserIo {
  env: Record<string, string | undefined>;
  platform: string;
  isRoot: boolean;
  isExecutable(path: string): boolean;
  readFile(path: string): string | null;
  writeFile(path: string, text: string): void;
  run(cmd: string, args: string[], options?: { timeoutMs?: number; env?: Record<string, string> }): number;
  playwrightChromium(): string | null;
  playwrightCli(): string | null;
  /** The executable `name` on the PATH, or null. */
  which(name: string): string | null;
  log(message: string): void;
}

export declare const RECORD_FILE: string;
export declare const SYSTEM_CANDIDATES: Record<string, string[]>;
export declare function realIo(): BrowserIo;
export declare function isDebianLike(io: BrowserIo): boolean;
export declare function findBrowser(io?: BrowserIo): BrowserChoice | null;
export declare function provisionBrowser(io?: BrowserIo): BrowserChoice | null;
export declare function missingBrowserMessage(io?: BrowserIo): string;
