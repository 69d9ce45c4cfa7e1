#!/usr/bin/env node
// Runs the sidecar's pytest suite with the sidecar environment's interpreter.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const python = process.env.SFA_PYTHON ?? join(root, 'python', '.venv', process.platform === 'win32' ? 'Scripts/python.exe' : 'bin/python');
const result = spawnSync(python, ['-m', 'pytest', 'tests', '-q', '-rs', ...process.argv.slice(2)], {
  cwd: join(root, 'python'),
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
