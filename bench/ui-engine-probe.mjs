#!/usr/bin/env node
/**
 * The engine's time per search keystroke, alone (no browser): `sfa serve` of PROBE_TREE (default
 * this checkout; another checkout's build for a before/after) over PROBE_HOME's library (seeded
 * by bench/ui-search-probe.mjs, default /tmp/sfa-ui-search-probe-100000), once its sidecars are
 * warm; then PROBE_ROUNDS (20) rounds of bench/ui.mjs's keystrokes ("n" .. "night", 50-row
 * windows, quickCount) over one WebSocket. Prints each word's first six times (the first is the
 * process's first search) and its median. Investigation, not a target.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { apiSocket, logSize, sidecarsWarm } from './ui-library.mjs';

const tree = process.env.PROBE_TREE ?? process.cwd();
const home = process.env.PROBE_HOME ?? join(tmpdir(), 'sfa-ui-search-probe-100000');
const rounds = Number(process.env.PROBE_ROUNDS ?? 20);
const from = logSize(home);
const child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], { cwd: tree, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SFA_LOG: 'warn', SFA_DEFAULT_MODEL: 'dsp' } });
try {
  const server = JSON.parse(await new Promise((r) => createInterface({ input: child.stdout }).once('line', r)));
  await sidecarsWarm(home, from);
  const api = await apiSocket(server);
  const times = {};
  for (let round = 0; round < rounds; round++) {
    for (const text of ['n', 'ni', 'nig', 'nigh', 'night']) {
      const t0 = performance.now();
      const reply = await api.request('library.list', { sort: { column: 'addedAt', dir: 'desc' }, search: text, offset: 0, limit: 50, quickCount: true });
      if (!reply.ok) throw new Error(reply.error.message);
      (times[text] ??= []).push(performance.now() - t0);
    }
  }
  api.close();
  console.log(`engine alone, ${tree}, ${rounds} rounds (ms): first six, then the median`);
  for (const [text, t] of Object.entries(times)) console.log(`${text.padEnd(6)} ${t.slice(0, 6).map((v) => v.toFixed(1).padStart(5)).join(' ')}   median ${[...t].sort((a, b) => a - b)[Math.floor(t.length / 2)].toFixed(1)}`);
} finally {
  child.kill('SIGTERM');
}
