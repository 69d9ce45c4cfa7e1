import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesFromArgv, registeredFile } from './desktop';

const media = (id: unknown, which: unknown) =>
  id === 't1' && (which === 'source' || which === 'drums') ? { path: `/lib/${String(which)}.wav`, filename: 'x', contentType: 'audio/wav', size: 1 } : null;

describe('desktop drag / reveal resolution', () => {
  it('resolves only registered files, through the media lookup', () => {
    expect(registeredFile(media, 't1', 'drums')).toBe('/lib/drums.wav');
    expect(registeredFile(media, 't1', undefined)).toBe('/lib/source.wav');
    expect(registeredFile(media, 't1', 'bass')).toBeNull();
    expect(registeredFile(media, '../etc', 'drums')).toBeNull();
    expect(registeredFile(media, 't1', '/etc/passwd')).toBeNull();
    expect(registeredFile(media, 42, 'drums')).toBeNull();
  });

  it('reads the files to open from argv: after the executable (and the app folder in dev), no switches', () => {
    expect(filesFromArgv(['/opt/sfa/sfa', '/music/a.wav', '--no-sandbox', 'b.flac'], { cwd: '/home/u', defaultApp: false })).toEqual(['/music/a.wav', '/home/u/b.flac']);
    expect(filesFromArgv(['/x/electron', '.', 'song.mp3'], { cwd: '/w', defaultApp: true })).toEqual([resolve('/w', 'song.mp3')]);
    expect(filesFromArgv(['/x/electron', '.'], { cwd: '/w', defaultApp: true })).toEqual([]);
  });
});
