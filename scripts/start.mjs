#!/usr/bin/env node
// `npm start`: the desktop app where Electron can run; otherwise the same UI served to a browser.
// Electron needs its binary (absent after an offline install: its download is blocked) and, on
// Linux, a display. Without either we say why in one line and run `sfa serve` instead.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { desktopBlocker, electronSqlitePath } from './native.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));

function electronBinary() {
  try {
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

function hasDisplay() {
  if (process.platform !== 'linux') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/** Runs a child with our stdio, forwards Ctrl+C / SIGTERM to it, exits with its code. */
function run(command, args) {
  const child = spawn(command, args, { cwd: root, stdio: 'inherit' });
  const forward = (signal) => () => {
    if (child.exitCode === null) child.kill(signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward(signal));
  child.on('error', (error) => {
    process.stderr.write(`npm start: could not run ${command}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
}

const electron = electronBinary();
const extra = process.argv.slice(2);
if (!existsSync(join(root, 'out', 'main', 'index.js')) || !existsSync(join(root, 'out', 'renderer', 'index.html'))) {
  process.stderr.write('npm start: the app is not built yet: run `npm run build` first.\n');
  process.exit(1);
}
/** The Electron-ABI better-sqlite3 the unpackaged app loads (scripts/native.mjs), or null when absent. */
function electronSqlite() {
  try {
    const version = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
    return { version, present: existsSync(electronSqlitePath(version)) };
  } catch {
    return { version: 'unknown', present: false };
  }
}

const sqlite = electron ? electronSqlite() : { version: undefined, present: false };
const why = desktopBlocker({ electronPath: electron, hasDisplay: hasDisplay(), electronVersion: sqlite.version, sqlitePresent: sqlite.present });
if (!why) {
  run(electron, ['.', ...extra]);
} else {
  process.stderr.write(`${why.replace(/\.$/, '')}; serving the UI to your browser instead (open the URL printed below).\n`);
  run(process.execPath, [join(root, 'bin', 'sfa.mjs'), 'serve', ...extra]);
}
