/**
 * Turning a browser drop into files: folders dropped in a browser arrive as FileSystemEntry
 * trees, read here recursively (audio files only inside folders, as the engine's folder scan).
 */
const AUDIO_EXTENSIONS = new Set([
  'wav', 'wave', 'flac', 'mp3', 'ogg', 'oga', 'opus', 'm4a', 'aac', 'aif', 'aiff', 'wma', 'alac', 'mp4', 'webm', 'mka',
]);

export function isAudioName(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && AUDIO_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/** What a drop carries, captured synchronously in the drop handler (items die after it). */
export interface DroppedItems {
  /** `dataTransfer.files`: in Electron each has a path (folders too). */
  files: File[];
  /** `webkitGetAsEntry()` of each item, where the browser offers it (null otherwise). */
  entries: (FileSystemEntry | null)[];
}

export function captureDrop(dataTransfer: DataTransfer): DroppedItems {
  const files = Array.from(dataTransfer.files);
  const entries = Array.from(dataTransfer.items ?? [])
    .filter((item) => item.kind === 'file')
    .map((item) => (typeof item.webkitGetAsEntry === 'function' ? item.webkitGetAsEntry() : null));
  return { files, entries };
}

const fileOf = (entry: FileSystemFileEntry) => new Promise<File>((resolve, reject) => entry.file(resolve, reject));

async function readAll(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  // readEntries returns at most ~100 entries per call: read until it returns none.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) return all;
    all.push(...batch);
  }
}

async function walk(entry: FileSystemEntry, inFolder: boolean, out: File[]): Promise<void> {
  if (entry.isFile) {
    if (!inFolder || isAudioName(entry.name)) out.push(await fileOf(entry as FileSystemFileEntry));
  } else if (entry.isDirectory) {
    for (const child of await readAll(entry as FileSystemDirectoryEntry)) await walk(child, true, out);
  }
}

/** The files to upload: dropped files as they are, folders expanded to their audio files. */
export async function flattenDrop(items: DroppedItems): Promise<File[]> {
  if (items.entries.length === 0 || items.entries.some((e) => e === null)) return items.files;
  const out: File[] = [];
  for (const entry of items.entries) await walk(entry!, false, out);
  return out;
}
