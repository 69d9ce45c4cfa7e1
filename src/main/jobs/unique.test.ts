import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/connection';
import { bundleForNode } from './test/bundle';
import { tempDb } from './test/helpers';
import { spawnNode } from './test/spawn';

const here = dirname(fileURLToPath(import.meta.url));

describe('unique jobs under contention', () => {
  it('inserts exactly one job per key when several processes race on the same unique keys', async () => {
    const script = await bundleForNode(join(here, 'test/unique-child.ts'));
    const t = tempDb(); // migrated; children open their own connections
    try {
      const rounds = 300;
      const children = Array.from({ length: 4 }, () => spawnNode(script, [t.file, String(rounds)]));
      await Promise.all(children.map((c) => c.waitLine(/^READY/)));
      const startAt = Date.now() + 150;
      for (const c of children) c.proc.stdin!.write(`GO ${startAt}\n`);
      const results = await Promise.all(
        children.map(async (c) => JSON.parse(await c.waitLine(/^\{/)) as { inserted: string[]; conflicts: number }),
      );
      // Every key was inserted by exactly one child; every other attempt got conflict: true.
      const inserted = results.flatMap((r) => r.inserted);
      expect(inserted).toHaveLength(rounds);
      expect(new Set(inserted).size).toBe(rounds);
      expect(results.reduce((n, r) => n + r.conflicts, 0)).toBe(4 * rounds - rounds);
      const db = openDatabase(t.file);
      expect(db.prepare('SELECT count(*) AS n FROM jobs').get()).toEqual({ n: rounds });
      db.close();
    } finally {
      t.close();
      rmSync(dirname(script), { recursive: true, force: true });
    }
  }, 30_000);
});
