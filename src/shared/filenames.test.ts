import { describe, expect, it } from 'vitest';
import { safeFileName } from './filenames';

describe('safeFileName', () => {
  it('keeps ordinary names and replaces what a file system refuses', () => {
    expect(safeFileName('Daft Punk - One More Time', 'track')).toBe('Daft Punk - One More Time');
    expect(safeFileName('AC/DC: Back in Black?', 'track')).toBe('AC_DC_ Back in Black_');
    expect(safeFileName('a\\b<>|c', 'track')).toBe('a_b_c');
    expect(safeFileName('x\u0000y\n.wav', 'upload')).toBe('x_y_.wav');
  });

  it('never yields a hidden file, a parent folder or an empty name', () => {
    expect(safeFileName('..', 'upload')).toBe('upload');
    expect(safeFileName('.hidden.mp3', 'upload')).toBe('hidden.mp3');
    expect(safeFileName('   ', 'track')).toBe('track');
    expect(safeFileName(null, 'upload')).toBe('upload');
  });

  it('caps the length and keeps a short extension', () => {
    const long = safeFileName(`${'a'.repeat(300)}.flac`, 'upload', 200);
    expect(long).toHaveLength(200);
    expect(long.endsWith('.flac')).toBe(true);
    expect(safeFileName('b'.repeat(300), 'track')).toHaveLength(120);
  });
});
