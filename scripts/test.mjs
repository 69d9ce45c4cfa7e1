#!/usr/bin/env node
/**
 * `npm test`: everything, in order, failing on any failure — build, typecheck, lint (ESLint and
 * the Electron security linter), unit (vitest), Python (pytest), the packaging layout check
 * (electron-builder --dir, scripts/dist-dir.mjs), end-to-end (Playwright in Chromium against
 * `sfa serve`).
 * `npm test -- --only unit,py` runs a subset.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBrowser, missingBrowserMessage } from './browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const steps = [
  ['build', bin('electron-vite'), ['build']],
  ['typecheck', bin('tsc'), ['--noEmit', '-p', 'tsconfig.json']],
  ['lint', bin('eslint'), ['--max-warnings', '0', '.']],
  ['electron-lint', process.execPath, [join(root, 'scripts', 'lint-electron.mjs')]],
  ['unit', bin('vitest'), ['run']],
  ['py', process.execPath, [join(root, 'scripts', 'pytest.mjs')]],
  ['dist', process.execPath, [join(root, 'scripts', 'dist-dir.mjs')]],
  ['e2e', bin('playwright'), ['test']],
];
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? new Set(process.argv[onlyIndex + 1].split(',')) : null;
const results = [];
for (const [name, cmd, args] of steps) {
  if (only && !only.has(name)) continue;
  process.stdout.write(`\n=== ${name}: ${[cmd.replace(root + '/', ''), ...args].join(' ')}\n`);
  // Without a browser the e2e step would fail every spec at launch: one message instead.
  if (name === 'e2e' && !findBrowser()) {
    process.stdout.write(`=== ${name} FAILED: ${missingBrowserMessage()}\n`);
    results.push({ name, ok: false, seconds: '0.0' });
    continue;
  }
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  results.push({ name, ok: r.status === 0, seconds });
  if (r.status !== 0) process.stdout.write(`=== ${name} FAILED (exit ${r.status ?? r.signal})\n`);
}
process.stdout.write('\n=== summary\n');
for (const r of results) process.stdout.write(`${r.ok ? 'ok  ' : 'FAIL'}  ${r.name.padEnd(10)} ${r.seconds}s\n`);
const failed = results.filter((r) => !r.ok).length;
process.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
process.exit(failed ? 1 : 0);
