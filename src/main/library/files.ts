import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Extensions we look for inside folders (a named file is always probed, whatever its name). */
export const AUDIO_EXTENSIONS = new Set([
  '.wav', '.wave', '.flac', '.mp3', '.ogg', '.oga', '.opus', '.m4a', '.aac', '.aif', '.aiff', '.wma', '.alac', '.mp4', '.webm', '.mka',
]);

export function isAudioName(name: string): boolean {
  return AUDIO_EXTENSIONS.has(extname(name).toLowerCase());
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export interface FolderScan {
  files: string[];
  /** Files skipped because their extension is not an audio one. */
  skipped: number;
  /** Problems that did not stop the scan (unreadable folders, symlink loops). */
  problems: { path: string; message: string }[];
}

/**
 * Every audio file under `root`, recursively, hidden entries skipped, each folder visited once
 * (by real path) so symlink loops end, and at most `limit` files so a mistaken drop of `/`
 * cannot hang the app.
 */
export async function scanFolder(root: string, limit = 20_000): Promise<FolderScan> {
  const scan: FolderScan = { files: [], skipped: 0, problems: [] };
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length && scan.files.length < limit) {
    const dir = stack.pop()!;
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      scan.problems.push({ path: dir, message: (error as Error).message });
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      scan.problems.push({ path: dir, message: `cannot read folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` });
      continue;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const full = join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const s = await stat(full);
          isDir = s.isDirectory();
          isFile = s.isFile();
        } catch {
          scan.problems.push({ path: full, message: 'broken symbolic link' });
          continue;
        }
      }
      if (isDir) subdirs.push(full);
      else if (isFile) {
        if (isAudioName(entry.name)) scan.files.push(full);
        else scan.skipped++;
        if (scan.files.length >= limit) break;
      }
    }
    stack.push(...subdirs.reverse());
  }
  if (stack.length) scan.problems.push({ path: root, message: `stopped after ${limit} files` });
  return scan;
}
