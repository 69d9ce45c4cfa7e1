import type { Migration } from './types';

/**
 * Frozen. One current analysis per track and source ('mix' or 'stems'); the seed's flattened
 * columns (tempo, key, energy, spectral_centroid, spectral_rolloff, zero_crossing_rate) beside
 * the full result JSON (DESIGN.md 4.3), so the library can sort and filter without parsing JSON.
 */
export const m003AnalysisResults: Migration = {
  version: 3,
  name: 'analysis_results',
  sql: `
CREATE TABLE analysis_results (
  id                  INTEGER PRIMARY KEY,
  track_id            TEXT NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
  job_id              INTEGER,
  source              TEXT NOT NULL CHECK (source IN ('mix', 'stems')),
  tempo               REAL,
  key                 TEXT,
  camelot             TEXT,
  key_confidence      REAL,
  tempo_confidence    REAL,
  energy              REAL,
  loudness            REAL,
  spectral_centroid   REAL,
  spectral_rolloff    REAL,
  zero_crossing_rate  REAL,
  duration            REAL,
  result              TEXT NOT NULL CHECK (json_valid(result)),
  created_at          TEXT NOT NULL,
  UNIQUE (track_id, source)
);
`,
};
