import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { opendir, realpath, stat } from 'node:fs/promises';
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

/** What a folder walk meets: an audio file, a file it skips (not named like audio), or a problem. */
export type WalkEntry = { kind: 'audio'; path: string } | { kind: 'skipped'; path: string } | { kind: 'problem'; path: string; message: string };

/** Enough for a label's catalogue in one drop; a mistaken drop of `/` still ends. */
export const FOLDER_FILE_LIMIT = 250_000;

/**
 * Every audio file under `root`, recursively and lazily: entries are read a few dozen at a time
 * (`opendir`), so a folder of 100,000 files is never held as a list; only the folders still to
 * visit are. Hidden entries are skipped, each folder is visited once (by real path) so symlink
 * loops end, and the walk stops after `limit` audio files with a problem saying so.
 */
export async function* walkAudioFiles(root: string, limit = FOLDER_FILE_LIMIT): AsyncGenerator<WalkEntry> {
  const seen = new Set<string>();
  const stack = [root];
  let found = 0;
  while (stack.length) {
    const dir = stack.pop()!;
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      yield { kind: 'problem', path: dir, message: (error as Error).message };
      continue;
    }
    if (seen.has(real)) continue;
    seen.add(real);
    let entries;
    try {
      entries = await opendir(dir, { bufferSize: 64 });
    } catch (error) {
      yield { kind: 'problem', path: dir, message: `cannot read folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
      continue;
    }
    const subdirs: string[] = [];
    try {
      for await (const entry of entries) {
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
            yield { kind: 'problem', path: full, message: 'broken symbolic link' };
            continue;
          }
        }
        if (isDir) subdirs.push(full);
        else if (isFile && !isAudioName(entry.name)) yield { kind: 'skipped', path: full };
        else if (isFile) {
          if (found === limit) {
            yield { kind: 'problem', path: root, message: `stopped after ${limit} files: add its subfolders one at a time` };
            return; // for await closes the directory handle
          }
          found++;
          yield { kind: 'audio', path: full };
        }
      }
    } catch (error) {
      yield { kind: 'problem', path: dir, message: `cannot read folder: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
    // Subfolders in name order (entries come in the file system's order).
    stack.push(...subdirs.sort((a, b) => b.localeCompare(a)));
  }
}
