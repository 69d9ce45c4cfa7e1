#!/usr/bin/env node
/**
 * `npm run lint:electron`: Doyensec's Electronegativity over the Electron host, preload and
 * renderer, offline. Fails on any HIGH or CRITICAL finding, and on MEDIUM findings that are not
 * marked for manual review. Reviewed findings are listed with the reason they are accepted.
 *
 * Offline: the check that downloads Electron's release list (AVAILABLE_SECURITY_FIXES) is skipped
 * and the Electron version is read from node_modules; the translations fetch times out after 1 s.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = process.env.ELECTRONEGATIVITY ?? join(root, 'node_modules', '.bin', 'electronegativity');
if (!existsSync(bin)) {
  console.error('lint:electron: @doyensec/electronegativity is not installed (npm install).');
  process.exit(2);
}
let electronVersion = '41.0.0';
try {
  electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
} catch {
  // electron not installed: any recent version gives the same checks
}

/** Findings we reviewed and accept, by check id and file: the reason is printed. */
const REVIEWED = {
  'OPEN_EXTERNAL_JS_CHECK main/electron/security.ts': 'only https URLs, validated by isExternalLinkAllowed (policy.test.ts)',
  'CSP_GLOBAL_CHECK main/electron/security.ts': 'the CSP is built by security/csp.ts and checked in policy.test.ts',
};

const dir = mkdtempSync(join(tmpdir(), 'sfa-eneg-'));
const csv = join(dir, 'report.csv');
const run = spawnSync(bin, ['-i', join(root, 'src'), '-r', '-v', 'false', '-e', electronVersion, '-x', 'AvailableSecurityFixesGlobalCheck', '-o', csv], {
  encoding: 'utf8',
  timeout: 300_000,
});
if (!existsSync(csv)) {
  console.error(`lint:electron: electronegativity produced no report (exit ${run.status ?? run.signal}).\n${run.stdout}\n${run.stderr}`);
  process.exit(2);
}
const rows = readFileSync(csv, 'utf8').trim().split('\n').slice(1);
rmSync(dir, { recursive: true, force: true });
let failed = 0;
for (const row of rows) {
  const cells = [...row.matchAll(/"([^"]*)"|([^,]+)|,(?=,)/g)].map((m) => (m[1] ?? m[2] ?? '').trim());
  const [id, severity = '', confidence = '', file = '', location = ''] = cells;
  if (!/^[A-Z_]+$/.test(id ?? '')) continue; // a note, not a finding (e.g. "Failed to parse CSP")
  const reviewed = REVIEWED[`${id} ${file}`];
  const blocking = !reviewed && (/HIGH|CRITICAL/.test(severity) || (severity === 'MEDIUM' && confidence !== 'TENTATIVE'));
  if (blocking) failed++;
  console.log(`${blocking ? 'FAIL' : 'ok  '} ${severity.padEnd(13)} ${confidence.padEnd(9)} ${id} ${file}:${location}${reviewed ? ` (reviewed: ${reviewed})` : ''}`);
}
console.log(`lint:electron: ${rows.length} finding(s), ${failed} blocking (electron ${electronVersion})`);
process.exit(failed ? 1 : 0);
