import { describe, expect, it } from 'vitest';
import type { TrackDetail } from '../../shared/domain';
import { mediaHeaders, parseMediaPath, parseRange, resolveMedia } from './lookup';

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
});
