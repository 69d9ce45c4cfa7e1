#!/usr/bin/env node
/**
 * Writes python/locks/<platform>.txt from python/requirements.txt (see scripts/provision/locks.mjs).
 * `--check`: exit 1 when a lock file is missing or out of step; then (unless `--offline`) asks
 * the indexes each lock names whether every pin has a wheel for the lock's platforms and prints
 * what it verified (scripts/provision/lockcheck.mjs). An unreachable index is reported as NOT
 * VERIFIED (exit 0; `--strict` makes it exit 3). `--resolve` also runs pip's resolver
 * (`pip install --dry-run --report --platform ...`) over every lock and target: CI, slow.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkLock, resolveLock } from './provision/lockcheck.mjs';
import { LOCK_VARIANTS, renderLocks } from './provision/locks.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = join(root, 'python', 'locks');
const locks = renderLocks(readFileSync(join(root, 'python', 'requirements.txt'), 'utf8'));
const argv = new Set(process.argv.slice(2));
const check = argv.has('--check');
const out = (line) => process.stdout.write(`${line}\n`);
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
    out(`wrote python/locks/${name}.txt`);
  }
}
if (!check || stale || argv.has('--offline')) process.exit(stale ? 1 : 0);

let failed = 0;
let unverified = 0;
for (const [name, text] of Object.entries(locks)) {
  const result = await checkLock(name, text);
  out(`\n== ${name}: ${LOCK_VARIANTS[name].targets.map((t) => `${t.os} ${t.arch}`).join(', ')}`);
  for (const line of result.verified) out(`  ok   ${line}`);
  for (const line of result.sdistOnly) out(`  note ${line}: sdist only (pip builds it at install; must be pure Python)`);
  for (const line of result.unreachable) out(`  NOT VERIFIED: index unreachable from here: ${line}`);
  for (const line of result.notVerified) out(`  NOT VERIFIED ${line}`);
  for (const line of result.errors) out(`  FAIL ${line}`);
  failed += result.errors.length;
  unverified += result.unreachable.length;
  if (argv.has('--resolve')) {
    for (const target of LOCK_VARIANTS[name].targets) {
      const resolved = resolveLock(process.env.SFA_BOOTSTRAP_PYTHON ?? 'python3', join(dir, `${name}.txt`), target);
      out(`  ${resolved.ok ? 'ok  ' : 'FAIL'} pip install --dry-run for ${resolved.platform}: ${resolved.ok ? `${resolved.installs} packages` : resolved.output}`);
      if (!resolved.ok) failed++;
    }
  }
}
out(`\n${failed ? `${failed} problem(s)` : 'no problems'}; ${unverified ? `${unverified} index(es) not reachable: NOT VERIFIED there` : 'every index reached'}`);
process.exit(failed ? 1 : unverified && argv.has('--strict') ? 3 : 0);
