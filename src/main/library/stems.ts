import type { Db } from '../db/connection';

export interface Stem {
  trackId: string;
  jobId: number | null;
  model: string;
  optionsKey: string;
  stem: string;
  path: string;
  size: number;
  duration: number | null;
  format: string;
  device: string | null;
  createdAt: string;
}

interface Row {
  track_id: string;
  job_id: number | null;
  model: string;
  options_key: string;
  stem: string;
  path: string;
  size: number;
  duration: number | null;
  format: string;
  device: string | null;
  created_at: string;
}

const fromRow = (r: Row): Stem => ({
  trackId: r.track_id,
  jobId: r.job_id,
  model: r.model,
  optionsKey: r.options_key,
  stem: r.stem,
  path: r.path,
  size: r.size,
  duration: r.duration,
  format: r.format,
  device: r.device,
  createdAt: r.created_at,
});

/** The stems table. Rows are written only in the transaction that completes a separation job. */
export class StemRepository {
  private readonly stmts;

  constructor(private readonly db: Db) {
    this.stmts = {
      upsert: db.prepare(`INSERT INTO stems (track_id, job_id, model, options_key, stem, path, size, duration, format, device, created_at)
        VALUES (@trackId, @jobId, @model, @optionsKey, @stem, @path, @size, @duration, @format, @device, @createdAt)
        ON CONFLICT (track_id, model, options_key, stem) DO UPDATE SET job_id = excluded.job_id, path = excluded.path,
          size = excluded.size, duration = excluded.duration, format = excluded.format, device = excluded.device,
          created_at = excluded.created_at`),
      forTrack: db.prepare('SELECT * FROM stems WHERE track_id = ? ORDER BY created_at DESC, stem'),
      forOptions: db.prepare('SELECT * FROM stems WHERE track_id = ? AND model = ? AND options_key = ? ORDER BY stem'),
      all: db.prepare('SELECT * FROM stems ORDER BY track_id, created_at DESC, stem'),
      forTracks: db.prepare('SELECT * FROM stems WHERE track_id IN (SELECT value FROM json_each(?)) ORDER BY track_id, created_at DESC, stem'),
    };
  }

  register(stems: Omit<Stem, 'createdAt'>[]): void {
    const createdAt = new Date().toISOString();
    for (const s of stems) this.stmts.upsert.run({ ...s, createdAt });
  }

  forTrack(trackId: string): Stem[] {
    return (this.stmts.forTrack.all(trackId) as Row[]).map(fromRow);
  }

  find(trackId: string, model: string, optionsKey: string): Stem[] {
    return (this.stmts.forOptions.all(trackId, model, optionsKey) as Row[]).map(fromRow);
  }

  /** The track's newest complete stem set (see `newestSet`), or null when it has none. */
  latestSet(trackId: string): StemSet | null {
    return newestSet(this.forTrack(trackId));
  }

  /** The newest complete set per track (the same rule as `latestSet`), for listings. */
  latestSetByTrack(): Map<string, StemSet> {
    return this.newestSets(this.stmts.all.all() as Row[]);
  }

  /** The newest complete set of each of `trackIds` that has one (a page of the library table). */
  latestSetsFor(trackIds: readonly string[]): Map<string, StemSet> {
    return this.newestSets(this.stmts.forTracks.all(JSON.stringify(trackIds)) as Row[]);
  }

  private newestSets(rowsByTrackNewestFirst: Row[]): Map<string, StemSet> {
    const byTrack = new Map<string, Stem[]>();
    for (const s of rowsByTrackNewestFirst.map(fromRow)) {
      const rows = byTrack.get(s.trackId);
      if (rows) rows.push(s);
      else byTrack.set(s.trackId, [s]);
    }
    return new Map([...byTrack].map(([id, rows]) => [id, newestSet(rows)!]));
  }
}

/** One separation's output: the rows of one model and settings key, by stem name. */
export interface StemSet {
  model: string;
  optionsKey: string;
  rows: Stem[];
  /** stem name -> file path */
  stems: Record<string, string>;
}

/**
 * "The newest stem set", defined once: of a track's rows, newest first, those sharing the newest
 * row's model and settings key (an older separation's stems never mix into it).
 */
export function newestSet(rowsNewestFirst: Stem[]): StemSet | null {
  const first = rowsNewestFirst[0];
  if (!first) return null;
  const rows = rowsNewestFirst.filter((s) => s.model === first.model && s.optionsKey === first.optionsKey);
  return { model: first.model, optionsKey: first.optionsKey, rows, stems: Object.fromEntries(rows.map((s) => [s.stem, s.path])) };
}
