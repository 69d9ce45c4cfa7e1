import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AnalysisResult, checkAnalysisResult } from '../../shared/analysis';
import { analysisResult } from '../../test/analysis';
import { tempDir } from '../../test/fixtures';
import { openDatabase } from '../db/connection';
import { migrate } from '../db/migrate';
import { migrations } from '../db/migrations';
import { AnalysisRepository } from './analyses';
import { CSV_COLUMNS, exportAnalysis } from './export';
import { TrackRepository } from './tracks';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** The shape analyzer 1.1.0 returns (python/sfa_sidecar/analyze.py), trimmed to a few beats. */
const RESULT = analysisResult({
  tempo: { bpm: 100 },
  grid: { beats: [0.003, 0.603, 1.203, 1.803, 2.403], downbeats: [0.003, 2.403], meter: '4/4', first_downbeat: 0.003, downbeat_confidence: 0 },
});

function setup(result: AnalysisResult) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = openDatabase(join(t.dir, 'db.sqlite'));
  cleanups.unshift(() => db.close());
  migrate(db, migrations);
  const tracks = new TrackRepository(db);
  const analyses = new AnalysisRepository(db);
  const track = tracks.insert({
    title: 'Beat Bravo 100', artist: null, album: null, sourceKind: 'file', source: '/music/bravo.wav', path: '/music/bravo.wav',
    contentHash: null, duration: 8, sampleRate: 22050, channels: 1, codec: 'pcm_s16le', status: 'ready',
  } as Parameters<TrackRepository['insert']>[0]);
  analyses.save(track.id, null, result);
  return { tracks, analyses, track };
}

describe('analysis result contract', () => {
  it('accepts what the analyzer returns and names what does not match', () => {
    expect(checkAnalysisResult(RESULT).ok).toBe(true);
    const bad = checkAnalysisResult({ ...RESULT, tempo: { ...RESULT.tempo, bpm: '100' } });
    expect(bad).toEqual({ ok: false, problems: [expect.stringMatching(/^tempo\.bpm: /)] });
    const meter = checkAnalysisResult({ ...RESULT, grid: { ...RESULT.grid, meter: '7/8' } });
    expect(meter.ok).toBe(false);
  });
});

describe('exportAnalysis', () => {
  it('writes the seed columns and the beat grid (CSV) and the whole result (JSON)', () => {
    const checked = checkAnalysisResult(RESULT);
    if (!checked.ok) throw new Error(checked.problems.join('; '));
    const { tracks, analyses, track } = setup(checked.result);
    const csv = exportAnalysis(tracks, analyses, 'csv').trimEnd().split('\r\n');
    expect(csv[0]).toBe(CSV_COLUMNS.join(','));
    const row = Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, csv[1]!.split(',')[i]]));
    expect(row).toMatchObject({
      id: track.id, bpm: '100', energy: '0.1596', centroid: '549.39', rolloff: '1085.05', zcr: '0.023',
      tempo_stable: 'true', meter: '4/4', first_downbeat: '0.003', window_start: '0', downbeats: '0.003 2.403',
      beats: '0.003 0.603 1.203 1.803 2.403',
    });
    const json = JSON.parse(exportAnalysis(tracks, analyses, 'json')) as Array<AnalysisResult & { trackId: string }>;
    expect(json[0]!.trackId).toBe(track.id);
    expect(json[0]!.grid).toEqual(RESULT.grid);
  });

  it('leaves the grid cells empty for a result stored by analyzer 1.0.0 (no grid)', () => {
    const { grid: _grid, ...old } = RESULT;
    const checked = checkAnalysisResult({ ...old, analyzer_version: '1.0.0' });
    if (!checked.ok) throw new Error(checked.problems.join('; '));
    const { tracks, analyses } = setup(checked.result);
    const cells = exportAnalysis(tracks, analyses, 'csv').trimEnd().split('\r\n')[1]!.split(',');
    expect(cells.slice(-6)).toEqual(['true', '', '', '0', '', '']);
  });
});
