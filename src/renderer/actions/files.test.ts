// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { flattenDrop } from './files';

/** Minimal FileSystemEntry fakes: a folder tree as the browser hands it over on a drop. */
function fileEntry(name: string): FileSystemFileEntry {
  return { name, isFile: true, isDirectory: false, file: (ok: (f: File) => void) => ok(new File(['x'], name)) } as unknown as FileSystemFileEntry;
}
function dirEntry(name: string, children: FileSystemEntry[], batch = 2): FileSystemDirectoryEntry {
  return {
    name,
    isFile: false,
    isDirectory: true,
    createReader() {
      let offset = 0;
      // Like Chromium, hand the entries over in batches, then an empty batch.
      return { readEntries: (ok: (e: FileSystemEntry[]) => void) => ok(children.slice(offset, (offset += batch))) };
    },
  } as unknown as FileSystemDirectoryEntry;
}

describe('flattenDrop', () => {
  it('expands dropped folders recursively to their audio files, keeping dropped files as they are', async () => {
    const tree = dirEntry('Set', [fileEntry('a.wav'), fileEntry('cover.jpg'), dirEntry('Disc 2', [fileEntry('b.FLAC'), fileEntry('notes.txt'), fileEntry('c.mp3')]), fileEntry('d.aiff')]);
    const files = await flattenDrop({ files: [], entries: [tree, fileEntry('readme.txt')] });
    expect(files.map((f) => f.name)).toEqual(['a.wav', 'b.FLAC', 'c.mp3', 'd.aiff', 'readme.txt']);
  });

  it('falls back to the plain file list where the browser gives no entries', async () => {
    const file = new File(['x'], 'x.wav');
    expect(await flattenDrop({ files: [file], entries: [null] })).toEqual([file]);
    expect(await flattenDrop({ files: [file], entries: [] })).toEqual([file]);
  });
});
