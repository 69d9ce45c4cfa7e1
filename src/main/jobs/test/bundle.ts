import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'rolldown';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/**
 * Bundle a TypeScript entry into a plain .mjs that `node` runs in a child process (Node 20 cannot
 * run TS and tsx is not a dependency; rolldown ships with vite). better-sqlite3 stays external
 * (native addon) and resolves through a node_modules symlink next to the bundle.
 */
export async function bundleForNode(entry: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-bundle-'));
  mkdirSync(dir, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'junction'); // junction: no admin on Windows
  const file = join(dir, 'entry.mjs');
  await build({
    input: entry,
    platform: 'node',
    external: ['better-sqlite3', /^node:/],
    output: { file, format: 'esm' },
    logLevel: 'silent',
  });
  return file;
}
