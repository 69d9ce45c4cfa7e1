import type { Migration } from './types';

/**
 * Frozen. User settings (default model, device, output format, queue concurrency, automatic
 * pipeline, tool paths): one row per key, the value as JSON. Unknown keys are ignored on read.
 */
export const m006Settings: Migration = {
  version: 6,
  name: 'settings',
  sql: `
CREATE TABLE settings (
  key        TEXT PRIMARY KEY,
  value      TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
`,
};
