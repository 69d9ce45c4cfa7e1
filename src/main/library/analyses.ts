import type { AnalysisResult } from '../../shared/analysis';
import type { AnalysisSummary } from '../../shared/domain';
import type { Db } from '../db/connection';

export interface StoredAnalysis {
  trackId: string;
  source: 'mix' | 'stems';
  /** Validated on entry (workers/analyze.ts); results stored by analyzer 1.0.0 lack the "since 1.1.0" fields. */
  result: AnalysisResult;
  createdAt: string;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** analysis_results: one current result per track and source, replaced by a re-analysis. */
export class AnalysisRepository {
  private readonly upsert;
  private readonly byTrack;
  private readonly all;
  private readonly summaryRows;

  constructor(db: Db) {
    this.upsert = db.prepare(`INSERT INTO analysis_results (track_id, job_id, source, tempo, key, camelot, key_confidence,
        tempo_confidence, energy, loudness, spectral_centroid, spectral_rolloff, zero_crossing_rate, duration, result, created_at)
      VALUES (@trackId, @jobId, @source, @tempo, @key, @camelot, @keyConfidence, @tempoConfidence, @energy, @loudness,
        @centroid, @rolloff, @zcr, @duration, @result, @createdAt)
      ON CONFLICT (track_id, source) DO UPDATE SET job_id = excluded.job_id, tempo = excluded.tempo, key = excluded.key,
        camelot = excluded.camelot, key_confidence = excluded.key_confidence, tempo_confidence = excluded.tempo_confidence,
        energy = excluded.energy, loudness = excluded.loudness, spectral_centroid = excluded.spectral_centroid,
        spectral_rolloff = excluded.spectral_rolloff, zero_crossing_rate = excluded.zero_crossing_rate,
        duration = excluded.duration, result = excluded.result, created_at = excluded.created_at`);
    this.byTrack = db.prepare('SELECT track_id, source, result, created_at FROM analysis_results WHERE track_id = ? ORDER BY source');
    this.all = db.prepare('SELECT track_id, source, result, created_at FROM analysis_results ORDER BY track_id, source');
    // The library table needs a handful of fields per track: read the indexed columns (and one
    // JSON path, in C) instead of parsing every full result (beats and curves) in JavaScript.
    this.summaryRows = db.prepare(`SELECT track_id, source, tempo, key, camelot, key_confidence, energy, loudness,
        json_extract(result, '$.energy.level') AS level, created_at
      FROM analysis_results ORDER BY created_at`);
  }

  /** The current result's summary of every analysed track, keyed by track id. */
  summaries(): Map<string, AnalysisSummary> {
    const map = new Map<string, AnalysisSummary>();
    for (const r of this.summaryRows.all() as SummaryRow[]) {
      // ordered by created_at: a later result of the same track replaces an earlier one
      map.set(r.track_id, {
        source: r.source,
        bpm: r.tempo,
        key: r.key,
        camelot: r.camelot,
        keyConfidence: r.key_confidence,
        energy: typeof r.level === 'number' ? r.level : r.energy,
        loudness: r.loudness,
      });
    }
    return map;
  }

  /** Indexes the seed's columns (DESIGN.md 4.3) beside the whole result as JSON. */
  save(trackId: string, jobId: number | null, result: AnalysisResult): void {
    const r = result;
    this.upsert.run({
      trackId,
      jobId,
      source: r.source,
      tempo: num(r.tempo.bpm),
      key: str(r.key.key),
      camelot: str(r.key.camelot),
      keyConfidence: num(r.key.confidence),
      tempoConfidence: num(r.tempo.confidence),
      energy: num(r.energy.rms_mean),
      loudness: num(r.energy.loudness_lufs),
      centroid: num(r.spectral.centroid_mean),
      rolloff: num(r.spectral.rolloff_mean),
      zcr: num(r.energy.zcr_mean),
      duration: num(r.duration),
      result: JSON.stringify(result),
      createdAt: new Date().toISOString(),
    });
  }

  /** The result the track shows: the analyzer already chose between mix and stems (`source`). */
  current(trackId: string): StoredAnalysis | null {
    const rows = (this.byTrack.all(trackId) as Row[]).map(fromRow);
    return rows.sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0] ?? null;
  }

  /** The current result of every analysed track, keyed by track id. */
  currentByTrack(): Map<string, StoredAnalysis> {
    const map = new Map<string, StoredAnalysis>();
    for (const a of (this.all.all() as Row[]).map(fromRow)) {
      const prev = map.get(a.trackId);
      if (!prev || a.createdAt > prev.createdAt) map.set(a.trackId, a);
    }
    return map;
  }
}

/** The sortable fields of a track's latest analysis (also the columns of migration 008's `track_summary`). */
export interface SummaryFields {
  tempo: number | null;
  key: string | null;
  camelot: string | null;
  key_confidence: number | null;
  energy: number | null;
  loudness: number | null;
}

interface SummaryRow extends SummaryFields {
  track_id: string;
  source: 'mix' | 'stems';
  level: number | null;
}

interface Row {
  track_id: string;
  source: 'mix' | 'stems';
  result: string;
  created_at: string;
}

function fromRow(r: Row): StoredAnalysis {
  return { trackId: r.track_id, source: r.source, result: JSON.parse(r.result) as AnalysisResult, createdAt: r.created_at };
}
