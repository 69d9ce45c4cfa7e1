import { describe, expect, it } from 'vitest';
import { compatibleKeys, mixesWith } from './camelot';
import { stemGains, toggleSolo } from './mix';
import { estimateEta, pipelineStatus } from './pipeline';
import { clickSelection, EMPTY_FILTER, listParams } from './query';
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
  it('asks the engine for the sort and filter: key and "mixes with" as one Camelot list', () => {
    const byBpm = { key: 'bpm', dir: 1 } as const;
    expect(listParams(byBpm, EMPTY_FILTER)).toEqual({ sort: { column: 'bpm', dir: 'asc' } });
    expect(listParams({ key: 'addedAt', dir: -1 }, { ...EMPTY_FILTER, search: '  yan bra ', bpmMin: 110, bpmMax: 5000 })).toEqual({
      sort: { column: 'addedAt', dir: 'desc' },
      search: 'yan bra',
      bpmMin: 110,
      bpmMax: 1000,
    });
    expect(listParams(byBpm, { ...EMPTY_FILTER, key: '3B' }).keys).toEqual(['3B']);
    expect(listParams(byBpm, { ...EMPTY_FILTER, mixesWith: '8A' }).keys).toEqual(['8A', '7A', '9A', '8B']);
    expect(listParams(byBpm, { ...EMPTY_FILTER, mixesWith: '8A', key: '9A' }).keys).toEqual(['9A']);
    expect(listParams(byBpm, { ...EMPTY_FILTER, mixesWith: '8A', key: '3B' }).keys).toEqual([]);
  });
  it('selects with click, ctrl-click and shift-click, asking for a range not loaded', () => {
    const loaded = (i: number) => tracks[i]?.id;
    const at = (i: number) => ({ id: tracks[i]!.id, index: i });
    const mods = (shift: boolean, toggle: boolean) => ({ shift, toggle });
    let s = clickSelection(new Set(), null, at(1), loaded, mods(false, false));
    if (!('selected' in s)) throw new Error('a plain click selects');
    expect([...s.selected]).toEqual(['b']);
    s = clickSelection(s.selected, s.anchor, at(3), loaded, mods(true, false));
    if (!('selected' in s)) throw new Error('a loaded range selects at once');
    expect([...s.selected].sort()).toEqual(['b', 'c', 'd']);
    expect(s.anchor).toEqual({ id: 'b', index: 1 });
    s = clickSelection(s.selected, s.anchor, at(2), loaded, mods(false, true));
    if (!('selected' in s)) throw new Error('ctrl-click toggles');
    expect([...s.selected].sort()).toEqual(['b', 'd']);
    // Rows 40..59 of the table are not loaded: the range asks for their ids, keeping the selection with ctrl.
    const far = clickSelection(s.selected, { id: 'b', index: 1 }, { id: 'z', index: 60 }, loaded, mods(true, true));
    expect(far).toEqual({ range: [1, 60], keep: s.selected });
    expect(clickSelection(s.selected, { id: 'z', index: 60 }, at(0), loaded, mods(true, false))).toEqual({ range: [0, 60], keep: new Set() });
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
