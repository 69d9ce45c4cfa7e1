import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TrackDetail } from '../../shared/domain';
import { tempDir } from '../../test/fixtures';
import { mediaHeaders, mediaLookup, parseMediaPath, parseRange, resolveMedia } from './lookup';

const track = { id: 't1', title: 'My/Song', path: '/music/song.flac', stems: { vocals: '/home/media/stems/t1/m/vocals.wav' } } as unknown as TrackDetail;
const detail = (id: string) => {
  if (id !== 't1') throw new Error('no such track');
  return track;
};

describe('media lookup', () => {
  it('parses only /media/<id>/<stem|source>', () => {
    expect(parseMediaPath('/media/t1/vocals')).toEqual({ trackId: 't1', which: 'vocals' });
    expect(parseMediaPath('/media/t1/source')).toEqual({ trackId: 't1', which: 'source' });
    expect(parseMediaPath('/media/t1/..')).toBeNull();
    expect(parseMediaPath('/media/t1/%2e%2e%2fetc')).toBeNull();
    expect(parseMediaPath('/media/..%2F/x')).toBeNull();
    expect(parseMediaPath('/media/t1/a/b')).toBeNull();
  });

  it('serves only registered files', () => {
    expect(resolveMedia(detail, 't1', 'source')?.path).toBe('/music/song.flac');
    expect(resolveMedia(detail, 't1', 'vocals')).toMatchObject({ path: '/home/media/stems/t1/m/vocals.wav', filename: 'My_Song - vocals.wav', contentType: 'audio/wav' });
    expect(resolveMedia(detail, 't1', 'drums')).toBeNull();
    expect(resolveMedia(detail, 'nope', 'source')).toBeNull();
  });

  it('parses byte ranges', () => {
    expect(parseRange(undefined, 100)).toBeNull();
    expect(parseRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(parseRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(parseRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(parseRange('bytes=0-1,5-6', 100)).toBeNull();
    const h = mediaHeaders({ path: '/x', filename: 'Ünïcode "a".wav', contentType: 'audio/wav' }, 100, { start: 0, end: 9 }, true);
    expect(h['Content-Range']).toBe('bytes 0-9/100');
    expect(h['Content-Length']).toBe('10');
    expect(h['Content-Disposition']).toContain("filename*=UTF-8''");
  });

  it("the engine's lookup confines stems to the stems folder (links followed) and serves regular files only", () => {
    const t = tempDir('sfa-lookup-');
    try {
      const stemsDir = join(t.dir, 'media', 'stems');
      const set = join(stemsDir, 't1', 'dsp-k');
      mkdirSync(set, { recursive: true });
      const music = join(t.dir, 'music');
      mkdirSync(music);
      writeFileSync(join(music, 'song.wav'), 'source!');
      writeFileSync(join(t.dir, 'secret.wav'), 'secret');
      writeFileSync(join(set, 'vocals.wav'), 'vocals');
      symlinkSync(join(t.dir, 'secret.wav'), join(set, 'drums.wav'));
      mkdirSync(join(set, 'bass.wav'));
      const stems = { vocals: join(set, 'vocals.wav'), drums: join(set, 'drums.wav'), bass: join(set, 'bass.wav'), other: join(t.dir, 'secret.wav') };
      const detail = (id: string) => {
        if (id !== 't1') throw new Error('no such track');
        return { id, title: 'Song', path: join(music, 'song.wav'), stems } as unknown as TrackDetail;
      };
      const media = mediaLookup(detail, stemsDir);
      expect(media('t1', 'vocals')).toMatchObject({ path: stems.vocals, size: 6, contentType: 'audio/wav' });
      // The user's own file lies outside the library by design.
      expect(media('t1', 'source')).toMatchObject({ path: join(music, 'song.wav'), size: 7 });
      expect(media('t1', 'other')).toBeNull(); // registered outside the stems folder
      expect(media('t1', 'drums')).toBeNull(); // a link inside leading out of it
      expect(media('t1', 'bass')).toBeNull(); // not a regular file
      expect(media('t1', 'piano')).toBeNull();
      expect(media('../t1', 'vocals')).toBeNull();
      expect(media('t1', '.hidden')).toBeNull();
      expect(media(42, 'vocals')).toBeNull();
      expect(media('nope', 'source')).toBeNull();
    } finally {
      t.cleanup();
    }
  });
});
