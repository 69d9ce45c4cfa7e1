#!/usr/bin/env node
/**
 * `npm test`: everything, in order, failing on any failure — build, typecheck, lint (ESLint and
 * the Electron security linter), unit (vitest), Python (pytest), the packaging layout check
 * (electron-builder --dir, scripts/dist-dir.mjs), end-to-end (Playwright in Chromium against
 * `sfa serve`).
 * `npm test -- --only unit,py` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBrowser, missingBrowserMessage } from './browser.mjs';
import { junitFailures, playwrightFailures, vitestFailures } from './test-failures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
// The test runners also write a machine-readable report, read back for the summary's list of
// failed tests (`failures`).
const reports = mkdtempSync(join(tmpdir(), 'sfa-test-'));
const report = (name) => join(reports, name);
const steps = [
  ['build', bin('electron-vite'), ['build']],
  ['typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['lint', bin('eslint'), ['--max-warnings', '0', '.']],
  ['electron-lint', process.execPath, [join(root, 'scripts', 'lint-electron.mjs')]],
  ['unit', bin('vitest'), ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${report('unit.json')}`],
    {}, () => vitestFailures(report('unit.json'))],
  ['py', process.execPath, [join(root, 'scripts', 'pytest.mjs'), `--junitxml=${report('py.xml')}`],
    {}, () => junitFailures(report('py.xml'))],
  ['dist', process.execPath, [join(root, 'scripts', 'dist-dir.mjs')]],
  ['e2e', bin('playwright'), ['test', '--reporter=list,json'],
    { PLAYWRIGHT_JSON_OUTPUT_NAME: report('e2e.json') }, () => playwrightFailures(report('e2e.json'))],
];
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? new Set(process.argv[onlyIndex + 1].split(',')) : null;
const results = [];
for (const [name, cmd, args, env = {}, failures = () => []] of steps) {
  if (only && !only.has(name)) continue;
  process.stdout.write(`\n=== ${name}: ${[cmd.replace(root + '/', ''), ...args].join(' ')}\n`);
  // Without a browser the e2e step would fail every spec at launch: one message instead.
  if (name === 'e2e' && !findBrowser()) {
    process.stdout.write(`=== ${name} FAILED: ${missingBrowserMessage()}\n`);
    results.push({ name, ok: false, seconds: '0.0' });
    continue;
  }
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: r.status === 0, seconds, failed: r.status === 0 ? [] : failures() });
  if (r.status !== 0) process.stdout.write(`=== ${name} FAILED (exit ${r.status ?? r.signal})\n`);
}
process.stdout.write('\n=== summary\n');
for (const r of results) {
  process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(10)} ${r.seconds}s\n`);
  for (const f of r.failed ?? []) process.stdout.write(`        ✗ ${f.name}\n          ${f.message}\n`);
}
rmSync(reports, { recursive: true, force: true });
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
