import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * An ffmpeg that notes each use in a file, then runs the real one: proves which ffmpeg a process
 * used without changing what it does. A POSIX shell script (tests skip it on Windows).
 */
export function recordingFfmpeg(dir: string, realFfmpeg: string): { path: string; uses: () => number } {
  const path = join(dir, 'recording-ffmpeg');
  const log = join(dir, 'recording-ffmpeg.log');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(path, `#!/bin/sh\necho used >> ${quote(log)}\nexec ${quote(realFfmpeg)} "$@"\n`);
  chmodSync(path, 0o755);
  return { path, uses: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0) };
}
