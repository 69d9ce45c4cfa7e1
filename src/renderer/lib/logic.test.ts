import { describe, expect, it } from 'vitest';
import { compatibleKeys, mixesWith } from './camelot';
import { stemGains, toggleSolo } from './mix';
import { estimateEta, pipelineStatus } from './pipeline';
import { EMPTY_FILTER, filterTracks, nextSelection, sortTracks } from './query';
import { job, track } from '../test/fakeEngine';

const a = (bpm: number | null, camelot: string | null) => ({ source: 'mix' as const, bpm, key: null, camelot, keyConfidence: null, energy: null, loudness: null });

describe('camelot', () => {
  it('lists same, ±1 same letter (wrapping), and the relative key', () => {
    expect(compatibleKeys('8A')).toEqual(['8A', '7A', '9A', '8B']);
    expect(compatibleKeys('12B')).toEqual(['12B', '11B', '1B', '12A']);
    expect(compatibleKeys('1A')).toEqual(['1A', '12A', '2A', '1B']);
    expect(mixesWith('8A', '9A')).toBe(true);
    expect(mixesWith('8A', '9B')).toBe(false);
    expect(mixesWith('8A', null)).toBe(false);
  });
});

describe('sort and filter', () => {
  const tracks = [
    track({ id: 'a', title: 'Alpha', artist: 'Zed', analysis: a(128, '8A'), duration: 300 }),
    track({ id: 'b', title: 'bravo', artist: 'Yan', analysis: a(100, '9A'), duration: 100 }),
    track({ id: 'c', title: 'Charlie', artist: null, analysis: null, duration: 200 }),
    track({ id: 'd', title: 'Delta', artist: 'Xi', analysis: a(124, '3B'), duration: null }),
  ];
  it('sorts any column, nulls last both ways', () => {
    expect(sortTracks(tracks, { key: 'bpm', dir: 1 }).map((t) => t.id)).toEqual(['b', 'd', 'a', 'c']);
    expect(sortTracks(tracks, { key: 'bpm', dir: -1 }).map((t) => t.id)).toEqual(['a', 'd', 'b', 'c']);
    expect(sortTracks(tracks, { key: 'title', dir: 1 }).map((t) => t.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(sortTracks(tracks, { key: 'key', dir: 1 }).map((t) => t.id)).toEqual(['d', 'a', 'b', 'c']);
    expect(sortTracks(tracks, { key: 'duration', dir: 1 }).map((t) => t.id)).toEqual(['b', 'c', 'a', 'd']);
  });
  it('filters by text, BPM range, key and "mixes with"', () => {
    expect(filterTracks(tracks, { ...EMPTY_FILTER, search: 'ALP' }).map((t) => t.id)).toEqual(['a']);
    expect(filterTracks(tracks, { ...EMPTY_FILTER, search: 'yan bra' }).map((t) => t.id)).toEqual(['b']);
    expect(filterTracks(tracks, { ...EMPTY_FILTER, bpmMin: 110, bpmMax: 130 }).map((t) => t.id)).toEqual(['a', 'd']);
    expect(filterTracks(tracks, { ...EMPTY_FILTER, key: '3B' }).map((t) => t.id)).toEqual(['d']);
    expect(filterTracks(tracks, { ...EMPTY_FILTER, mixesWith: '8A' }).map((t) => t.id)).toEqual(['a', 'b']);
    expect(filterTracks(tracks, EMPTY_FILTER)).toBe(tracks);
  });
  it('selects with click, ctrl-click and shift-click', () => {
    let s = nextSelection(new Set(), null, 'b', tracks, { shift: false, toggle: false });
    expect([...s.selected]).toEqual(['b']);
    s = nextSelection(s.selected, s.anchor, 'd', tracks, { shift: true, toggle: false });
    expect([...s.selected].sort()).toEqual(['b', 'c', 'd']);
    s = nextSelection(s.selected, s.anchor, 'c', tracks, { shift: false, toggle: true });
    expect([...s.selected].sort()).toEqual(['b', 'd']);
  });
});

describe('stem gains', () => {
  const c = (over: Partial<{ muted: boolean; solo: boolean; volume: number }> = {}) => ({ muted: false, solo: false, volume: 1, ...over });
  it('mute silences, solo isolates, volume scales', () => {
    expect(stemGains({ vocals: c(), drums: c({ muted: true }), bass: c({ volume: 0.5 }) })).toEqual({ vocals: 1, drums: 0, bass: 0.5 });
    expect(stemGains({ vocals: c({ solo: true }), drums: c(), bass: c({ solo: true, muted: true }) })).toEqual({ vocals: 1, drums: 0, bass: 0 });
  });
  it('solo is exclusive and toggles off', () => {
    const start = { vocals: c(), drums: c() };
    const one = toggleSolo(start, 'drums');
    expect(stemGains(one)).toEqual({ vocals: 0, drums: 1 });
    expect(stemGains(toggleSolo(one, 'vocals'))).toEqual({ vocals: 1, drums: 0 });
    expect(stemGains(toggleSolo(one, 'drums'))).toEqual({ vocals: 1, drums: 1 });
  });
});

describe('pipeline status', () => {
  const t = track({ id: 't' });
  it('derives the status from the jobs', () => {
    expect(pipelineStatus(t, [job({ trackId: 't', state: 'executing', worker: 'separate', progress: { percent: 45.2, message: null } })]).text).toBe('separating 45%');
    expect(pipelineStatus(t, [job({ trackId: 't', state: 'executing', worker: 'analyze' })]).text).toBe('analyzing');
    expect(pipelineStatus(t, [job({ trackId: 't', state: 'available' })]).text).toBe('queued');
    expect(pipelineStatus(t, [job({ trackId: 't', state: 'completed' })]).text).toBe('done');
    expect(pipelineStatus(t, [job({ trackId: 't', state: 'discarded', errors: [{ attempt: 1, at: '', error: 'model missing' }] })]).text).toBe('failed: model missing');
    expect(pipelineStatus({ ...t, status: 'missing' }, []).text).toBe('file missing');
    // A newer successful run supersedes an older failure of the same step.
    expect(pipelineStatus(t, [job({ id: 2, trackId: 't', state: 'completed' }), job({ id: 1, trackId: 't', state: 'discarded' })]).text).toBe('done');
  });
  it('estimates an ETA from the progress rate once it has moved', () => {
    expect(estimateEta(undefined, 50, 0)).toBeNull();
    expect(estimateEta({ percent: 10, at: 0 }, 11, 5000)).toBeNull();
    expect(estimateEta({ percent: 10, at: 0 }, 30, 10_000)).toBeCloseTo(35);
  });
});
