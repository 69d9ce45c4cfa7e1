#!/usr/bin/env node
/**
 * Writes python/locks/<platform>.txt from python/requirements.txt (see scripts/provision/locks.mjs).
 * `--check`: exit 1 when a lock file is missing or out of step (the unit tests run it).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderLocks } from './provision/locks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'python', 'locks');
const locks = renderLocks(readFileSync(join(root, 'python', 'requirements.txt'), 'utf8'));
const check = process.argv.includes('--check');
let stale = 0;
if (!check) mkdirSync(dir, { recursive: true });
for (const [name, text] of Object.entries(locks)) {
  const file = join(dir, `${name}.txt`);
  const current = existsSync(file) ? readFileSync(file, 'utf8') : null;
  if (current === text) continue;
  if (check) {
    stale++;
    process.stderr.write(`python/locks/${name}.txt is ${current === null ? 'missing' : 'out of date'}: run \`node scripts/locks.mjs\`\n`);
  } else {
    writeFileSync(file, text);
    process.stdout.write(`wrote python/locks/${name}.txt\n`);
  }
}
process.exit(stale ? 1 : 0);
