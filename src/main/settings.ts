import type { Settings } from '../shared/domain';
import type { ClusterSettings } from './cluster/config';
import type { Db } from './db/connection';

/**
 * What a fresh library starts with (env and engine options may change the model). The Spotify
 * client id is a setting; its secret lives in the host's SecretStore (src/main/secrets.ts).
 */
export type StoredSettings = Omit<Settings, 'libraryFolder' | 'spotify' | 'cluster'> & { spotifyClientId?: string | null; cluster?: ClusterSettings };

const KEYS = ['defaultModel', 'device', 'format', 'autoPipeline', 'concurrency', 'toolPaths', 'keyNotation', 'energyField', 'stemCodec', 'spotifyClientId', 'cluster'] as const;

/** Defaults of the DJ-software settings (tags and NI Stems), spread into the engine's defaults. */
export const DJ_SETTING_DEFAULTS: Pick<StoredSettings, 'keyNotation' | 'energyField' | 'stemCodec'> = {
  keyNotation: 'standard',
  energyField: 'comment',
  stemCodec: 'aac',
};

/** The settings table (migration 006): one JSON value per key. */
export class SettingsRepository {
  private readonly stmts;

  constructor(db: Db) {
    this.stmts = {
      all: db.prepare('SELECT key, value FROM settings'),
      put: db.prepare(
        'INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
      ),
    };
  }

  /** Stored values over `defaults`; a value that no longer parses is ignored. */
  read(defaults: StoredSettings): StoredSettings {
    const out: StoredSettings = { ...defaults, concurrency: { ...defaults.concurrency }, toolPaths: { ...defaults.toolPaths } };
    for (const row of this.stmts.all.all() as { key: string; value: string }[]) {
      if (!(KEYS as readonly string[]).includes(row.key)) continue;
      try {
        const value = JSON.parse(row.value) as unknown;
        if (row.key === 'concurrency' || row.key === 'toolPaths') Object.assign(out[row.key], value);
        else (out as unknown as Record<string, unknown>)[row.key] = value;
      } catch {
        // a damaged row: the default stands
      }
    }
    return out;
  }

  write(patch: Partial<StoredSettings>): void {
    const at = new Date().toISOString();
    for (const key of KEYS) if (patch[key] !== undefined) this.stmts.put.run(key, JSON.stringify(patch[key]), at);
  }
}
