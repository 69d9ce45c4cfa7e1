#!/usr/bin/env node
/**
 * `npm run bench` runs every benchmark; `npm run bench -- <name> [<name>...]` runs some.
 * Each benchmark prints a table (our figure, the peer's measured in the same run, the ratio) and
 * ends with one machine-readable line: `BENCH <name> key=value ...`. This runner collects those
 * lines and prints them again at the end.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.SFA_PYTHON ?? join(root, 'python', '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');

const BENCHMARKS = {
  scheduler: [process.execPath, [join(root, 'bench', 'scheduler.mjs')]],
  'analysis-accuracy': [python, [join(root, 'bench', 'analysis_accuracy.py')]],
  'analysis-speed': [python, [join(root, 'bench', 'analysis_speed.py')]],
  separation: [python, [join(root, 'bench', 'separation.py')]],
  gpu: [python, [join(root, 'bench', 'gpu.py')]],
  openvino: [python, [join(root, 'bench', 'openvino_cpu.py')]],
  cluster: [python, [join(root, 'bench', 'cluster.py')]],
  'cluster-import': [process.execPath, [join(root, 'bench', 'cluster-import.mjs')]],
  ui: [process.execPath, [join(root, 'bench', 'ui.mjs')]],
  import: [process.execPath, [join(root, 'bench', 'import.mjs')]],
  'analysis-scale': [process.execPath, [join(root, 'bench', 'analysis-scale.mjs')]],
};

const asked = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = asked.filter((name) => !(name in BENCHMARKS));
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}. Known: ${Object.keys(BENCHMARKS).join(', ')}\n`);
  process.exit(2);
}
const names = asked.length ? asked : Object.keys(BENCHMARKS);
const lines = [];
let failed = 0;
for (const name of names) {
  const [cmd, args] = BENCHMARKS[name];
  if (!existsSync(args[0])) {
    process.stdout.write(`\n=== ${name}: not available (${args[0]} missing)\n`);
    failed++;
    continue;
  }
  process.stdout.write(`\n=== ${name}\n`);
  const code = await new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) if (line.startsWith('BENCH ')) lines.push(line);
    });
    child.on('exit', (c) => {
      if (buffered.startsWith('BENCH ')) lines.push(buffered);
      resolve(c ?? 1);
    });
  });
  if (code !== 0) {
    failed++;
    process.stdout.write(`=== ${name} FAILED (exit ${code})\n`);
  }
}
process.stdout.write('\n=== results\n');
for (const line of lines) process.stdout.write(`${line}\n`);
process.exit(failed ? 1 : 0);
