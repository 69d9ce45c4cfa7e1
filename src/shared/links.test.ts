import { describe, expect, it } from 'vitest';
import { looksLikeLink, recogniseLink } from './links';

describe('recogniseLink', () => {
  const id = '4uLU6hMCjMI75M1A2tKUQC';
  it.each([
    [`https://open.spotify.com/track/${id}`, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    [`https://open.spotify.com/intl-de/track/${id}?si=abc123`, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    [`https://open.spotify.com/album/${id}`, 'spotify', 'album', `https://open.spotify.com/album/${id}`],
    [`https://open.spotify.com/playlist/${id}?si=x&pt=y`, 'spotify', 'playlist', `https://open.spotify.com/playlist/${id}`],
    [`spotify:track:${id}`, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=42s', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://youtu.be/dQw4w9WgXcQ?si=zz', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RD', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://youtube.com/shorts/dQw4w9WgXcQ', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://www.youtube.com/playlist?list=PLabcdefghij123', 'youtube', 'playlist', 'https://www.youtube.com/playlist?list=PLabcdefghij123'],
    // issue #6 review: the remaining shapes users paste
    [`https://open.spotify.com/intl-pt/album/${id}?si=q`, 'spotify', 'album', `https://open.spotify.com/album/${id}`],
    [`https://open.spotify.com/intl-ja/playlist/${id}`, 'spotify', 'playlist', `https://open.spotify.com/playlist/${id}`],
    [`spotify:album:${id}`, 'spotify', 'album', `https://open.spotify.com/album/${id}`],
    [`spotify:playlist:${id}`, 'spotify', 'playlist', `https://open.spotify.com/playlist/${id}`],
    [`  https://open.spotify.com/track/${id}  `, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    [`http://open.spotify.com/track/${id}`, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    [`https://open.spotify.com/embed/track/${id}`, 'spotify', 'track', `https://open.spotify.com/track/${id}`],
    ['https://m.youtube.com/watch?feature=share&v=dQw4w9WgXcQ', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://www.youtube.com/shorts/dQw4w9WgXcQ?feature=share', 'youtube', 'video', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ'],
    ['https://music.youtube.com/playlist?list=OLAK5uy_abcdefghij', 'youtube', 'playlist', 'https://www.youtube.com/playlist?list=OLAK5uy_abcdefghij'],
  ])('accepts %s', (input, kind, type, canonical) => {
    const r = recogniseLink(input);
    expect(r).toMatchObject({ ok: true, kind, type, canonical });
  });

  it.each([
    ['', 'empty'],
    ['--exec=rm -rf /', 'start with "-"'],
    ['-https://open.spotify.com/track/x', 'start with "-"'],
    [`https://open.spotify.com/track/${id};rm -rf ~`, 'shell'],
    ['https://open.spotify.com/track/$(reboot)', 'shell'],
    ['https://www.youtube.com/watch?v=`id`', 'shell'],
    ['file:///etc/passwd', 'scheme'],
    ['javascript:alert(1)', 'unsupported scheme'],
    ['data:text/html,<b>x</b>', 'shell'],
    ['https://evil.example/track/abc', 'unsupported site'],
    ['https://open.spotify.com.evil.io/track/4uLU6hMCjMI75M1A2tKUQC', 'unsupported site'],
    ['https://оpen.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', 'non-ASCII'],
    ['https://open.spotify.com/artist/4uLU6hMCjMI75M1A2tKUQC', 'track, album and playlist'],
    ['https://open.spotify.com/track/short', 'not valid'],
    ['https://user:pw@open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC', 'credentials'],
    ['https://www.youtube.com/watch?v=bad', 'not valid'],
    [`https://open.spotify.com/track/${id}${'a'.repeat(3000)}`, 'longer than'],
    [`spotify:artist:${id}`, 'URIs are supported'],
    [`spotify:track:${id}:extra`, 'URIs are supported'],
    [`ftp://open.spotify.com/track/${id}`, 'unsupported scheme'],
    [`https://open.spotify.com:8443/track/${id}`, 'port'],
    [`https://open.spotify.com/track/${id}%20--output`, 'not valid'],
    [`https://open.spotify.com/track/${id} --output /etc`, 'spaces'],
    ['https://www.youtube.com/channel/UCabcdefghij', 'unsupported YouTube page'],
    ['https://www.youtube.com/watch?v=dQw4w9WgXcQ|id', 'shell'],
    ['https://www.youtube.com/playlist?list=x', 'no valid list id'],
    ['https://youtube.com.evil.io/watch?v=dQw4w9WgXcQ', 'unsupported site'],
  ])('rejects %s', (input, reason) => {
    const r = recogniseLink(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(reason);
  });

  it('tells links from paths', () => {
    expect(looksLikeLink('https://x.y')).toBe(true);
    expect(looksLikeLink('spotify:track:abc')).toBe(true);
    expect(looksLikeLink('javascript:alert(1)')).toBe(true);
    expect(looksLikeLink('/music/a.wav')).toBe(false);
    expect(looksLikeLink('C:\\music\\a.wav')).toBe(false);
    expect(looksLikeLink('song: remix.wav')).toBe(false);
    expect(looksLikeLink('-https://open.spotify.com/track/x')).toBe(true);
    expect(looksLikeLink('--url=https://open.spotify.com/track/x')).toBe(true);
    expect(looksLikeLink('-my file.wav')).toBe(false);
  });
});
