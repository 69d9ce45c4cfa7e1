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

  /** The newest complete set per track: `{stem name: path}`, for listings and stem analysis. */
  latestSetByTrack(): Map<string, { model: string; stems: Record<string, string> }> {
    const map = new Map<string, { model: string; key: string; stems: Record<string, string> }>();
    for (const s of (this.stmts.all.all() as Row[]).map(fromRow)) {
      const current = map.get(s.trackId);
      const key = `${s.model}/${s.optionsKey}`;
      if (!current) map.set(s.trackId, { model: s.model, key, stems: { [s.stem]: s.path } });
      else if (current.key === key) current.stems[s.stem] = s.path;
    }
    return new Map([...map].map(([id, v]) => [id, { model: v.model, stems: v.stems }]));
  }
}
