/** Types of scripts/ffprobe.mjs (ffprobe for the NI Stems read-back tests). */
import type { BrowserIo } from './browser.mjs';

export declare function provisionFfprobe(io?: BrowserIo): boolean;
export declare function missingFfprobeMessage(io?: BrowserIo): string;
