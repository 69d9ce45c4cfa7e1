import { describe, expect, it } from 'vitest';
import { gridAnchor, gridMarkers } from './entries';
import { camelotKey, keyIn, openKey, standardKey, traktorKeyValue } from './keys';
import { rekordboxLocation } from './rekordbox';
import { traktorLocation } from './traktor';
import { attr } from './xml';

describe('key notations', () => {
  it('maps all 24 keys to Camelot, Open Key and Traktor values on the wheel', () => {
    const majors = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
    const minors = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];
    // Around the wheel each step is a fifth: 1B = B major ... 8B = C major; 8A = A minor.
    expect(camelotKey({ tonic: 'C', mode: 'major' })).toBe('8B');
    expect(camelotKey({ tonic: 'A', mode: 'minor' })).toBe('8A');
    expect(camelotKey({ tonic: 'G', mode: 'major' })).toBe('9B');
    expect(camelotKey({ tonic: 'B', mode: 'major' })).toBe('1B');
    expect(camelotKey({ tonic: 'G#', mode: 'minor' })).toBe('1A');
    expect(openKey({ tonic: 'C', mode: 'major' })).toBe('1d');
    expect(openKey({ tonic: 'A', mode: 'minor' })).toBe('1m');
    expect(openKey({ tonic: 'B', mode: 'major' })).toBe('6d');
    const camelots = new Set([...majors.map((t) => camelotKey({ tonic: t, mode: 'major' })), ...minors.map((t) => camelotKey({ tonic: t, mode: 'minor' }))]);
    expect(camelots.size).toBe(24);
    majors.forEach((t, i) => expect(traktorKeyValue({ tonic: t, mode: 'major' })).toBe(i));
    minors.forEach((t, i) => expect(traktorKeyValue({ tonic: t, mode: 'minor' })).toBe(12 + i));
    expect(standardKey({ tonic: 'F#', mode: 'minor' })).toBe('F#m');
    expect(keyIn('standard', { tonic: 'Eb', mode: 'major' })).toBe('Eb');
    expect(keyIn('camelot', { tonic: 'Eb', mode: 'major' })).toBe('5B');
    expect(keyIn('openkey', { tonic: 'Eb', mode: 'major' })).toBe('10d');
  });
});

describe('locations', () => {
  it('rekordbox: file://localhost/ and every segment escaped, a Windows drive kept', () => {
    expect(rekordboxLocation('/Users/me/Music/A & B #1 100%.mp3', 'darwin')).toBe('file://localhost/Users/me/Music/A%20%26%20B%20%231%20100%25.mp3');
    expect(rekordboxLocation('C:\\Music\\Demo Tracks\\Café.mp3', 'win32')).toBe('file://localhost/C:/Music/Demo%20Tracks/Caf%C3%A9.mp3');
  });

  it('Traktor: VOLUME, DIR with "/:" after each folder, FILE; the playlist key joins them', () => {
    expect(traktorLocation('C:\\Music\\House\\a b.mp3', 'win32')).toEqual({ volume: 'C:', dir: '/:Music/:House/:', file: 'a b.mp3', key: 'C:/:Music/:House/:a b.mp3' });
    expect(traktorLocation('/Volumes/USB/Sets/x.wav', 'darwin')).toMatchObject({ volume: 'USB', dir: '/:Sets/:', file: 'x.wav' });
    expect(traktorLocation('/Users/me/x.wav', 'darwin')).toMatchObject({ volume: 'Macintosh HD', dir: '/:Users/:me/:' });
    expect(traktorLocation('/home/me/x.wav', 'linux')).toMatchObject({ volume: '', dir: '/:home/:me/:', file: 'x.wav' });
  });

  it('XML attributes: markup, quotes, newlines escaped; characters XML forbids dropped', () => {
    expect(attr('a<b>&"c"\n\u0001d')).toBe('a&lt;b&gt;&amp;&quot;c&quot;&#10;d');
  });
});

describe('the grid anchor', () => {
  it('uses the beat grid when present, else the first beat, else none', () => {
    expect(gridAnchor({ grid: { downbeats: [0.52, 2.4], beats: [0.05, 0.52], meter: 3 } }, 120)).toEqual({ start: 0.52, bpm: 120, beatsPerBar: 3, beatInBar: 1 });
    expect(gridAnchor({ grid: { first_downbeat: 1.25, meter: '4/4' } }, 128)).toEqual({ start: 1.25, bpm: 128, beatsPerBar: 4, beatInBar: 1 });
    expect(gridAnchor({ tempo: { bpm: 100, beats: [0.3, 0.9] } }, 100)).toEqual({ start: 0.3, bpm: 100, beatsPerBar: 4, beatInBar: 1 });
    expect(gridAnchor({ tempo: { bpm: 100, beats: [] } }, 100)).toBeNull();
  });
});

describe('rekordbox tempo markers', () => {
  it('one marker for a stable tempo; one per tempo change for a variable grid', () => {
    const downbeats = [0.5, 2.5, 4.5, 6.5, 8.4, 10.3, 12.2];
    const anchor = gridAnchor({ grid: { downbeats, meter: 4 } }, 120)!;
    expect(gridMarkers({ tempo: { stable: true }, grid: { downbeats } }, anchor)).toEqual([anchor]);
    expect(gridMarkers({ tempo: { stable: false }, grid: { downbeats } }, anchor)).toEqual([
      { start: 0.5, bpm: 120, beatsPerBar: 4, beatInBar: 1 },
      { start: 6.5, bpm: 126.32, beatsPerBar: 4, beatInBar: 1 },
    ]);
    expect(gridMarkers({ tempo: { stable: false } }, null)).toEqual([]);
  });
});
