#!/usr/bin/env node
/**
 * `npm run dist:dir` — an OFFLINE check of electron-builder.yml. It does NOT produce a runnable app.
 *
 * electron-builder's `--dir` target runs with `electronDist` pointing at a stand-in Electron
 * distribution made in a temp folder (a stub executable: the real Electron zip cannot be
 * downloaded here) and `npmRebuild: false` (rebuilding better-sqlite3 for Electron needs Electron's
 * headers). Everything else is the real configuration: schema validation of every platform's
 * section, the files/asar selection, asarUnpack, extraResources. Then the output layout is
 * asserted: app.asar holds out/main, out/preload, out/renderer and the production modules only;
 * the native module is unpacked; resources/python holds the sidecar sources, the locks and the
 * runtime pin. Linux and Windows hosts only (the macOS stand-in would need an app bundle).
 * Flags: --build (run electron-vite build first; done anyway when out/ is missing), --keep.
 * Part of `npm test` (the `dist` step of scripts/test.mjs); about 25 s.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBuilderConfig } from './packaging-config.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = new Set(process.argv.slice(2));
const isWindows = process.platform === 'win32';
const log = (m) => process.stdout.write(`[dist:dir] ${m}\n`);
const bin = (name) => join(root, 'node_modules', '.bin', isWindows ? `${name}.cmd` : name);

if (process.platform === 'darwin') {
  log('skipped on macOS: the stand-in Electron would need an app bundle. Run `npm run dist` (it downloads Electron) instead.');
  process.exit(0);
}

const failures = [];
const check = (ok, what) => {
  if (!ok) failures.push(what);
  log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

// 1. the build output the package is made of
if (args.has('--build') || !existsSync(join(root, 'out', 'main', 'index.js'))) {
  log('electron-vite build');
  const built = spawnSync(bin('electron-vite'), ['build'], { cwd: root, stdio: 'inherit', shell: isWindows });
  if (built.status !== 0) process.exit(1);
}

// 2. the configuration file itself (what a --dir build on this OS does not exercise)
const yaml = require('js-yaml');
const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8'));
const targets = (section) => (config[section]?.target ?? []).map((t) => (typeof t === 'string' ? t : t.target));
check(targets('linux').includes('AppImage') && targets('linux').includes('deb'), 'linux targets: AppImage and deb');
for (const { ok, what } of checkBuilderConfig(config, root)) check(ok, what);
check(targets('win').includes('nsis'), 'win target: nsis');
const exts = new Set((config.fileAssociations ?? []).flatMap((a) => a.ext));
check(['wav', 'flac', 'mp3', 'ogg', 'm4a', 'aiff'].every((e) => exts.has(e)), 'file associations: wav flac mp3 ogg m4a aiff');
check(config.npmRebuild === true, 'npmRebuild: true for release builds (overridden to false for this check only)');
const icon = readFileSync(join(root, 'resources', 'icon.png'));
check(icon.readUInt32BE(16) >= 512 && icon.readUInt32BE(20) >= 512, 'resources/icon.png is at least 512x512');

// 3. a --dir build against a stand-in Electron
const electronVersion = JSON.parse(readFileSync(join(root, 'node_modules', 'electron', 'package.json'), 'utf8')).version;
const tmp = mkdtempSync(join(tmpdir(), 'sfa-dist-dir-'));
const standIn = join(tmp, 'electron-standin');
mkdirSync(join(standIn, 'resources'), { recursive: true });
const exe = join(standIn, isWindows ? 'electron.exe' : 'electron');
writeFileSync(exe, isWindows ? 'stand-in' : '#!/bin/sh\necho "Sound Forge Alchemy dist:dir check: a stand-in Electron, not a runnable app" >&2\nexit 1\n');
if (!isWindows) chmodSync(exe, 0o755);
writeFileSync(join(standIn, 'version'), electronVersion);
writeFileSync(join(standIn, 'LICENSE'), 'stand-in');
writeFileSync(join(standIn, 'LICENSES.chromium.html'), 'stand-in');
const output = join(tmp, 'out');
const started = Date.now();
const builder = spawnSync(
  bin('electron-builder'),
  [
    isWindows ? '--win' : '--linux',
    'dir',
    '--config',
    'electron-builder.yml',
    `-c.electronDist=${standIn}`,
    `-c.electronVersion=${electronVersion}`,
    '-c.npmRebuild=false',
    `-c.directories.output=${output}`,
    '--publish',
    'never',
  ],
  { cwd: root, encoding: 'utf8', shell: isWindows, env: { ...process.env, CI: '1' } },
);
const builderOutput = `${builder.stdout ?? ''}${builder.stderr ?? ''}`;
check(builder.status === 0, `electron-builder --dir with the stand-in Electron ${electronVersion} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
if (builder.status !== 0) {
  process.stdout.write(builderOutput.split('\n').slice(-30).join('\n') + '\n');
  rmSync(tmp, { recursive: true, force: true });
  process.exit(1);
}

// 4. the layout
const unpackedDir = readdirSync(output).find((d) => d.endsWith('-unpacked'));
const app = join(output, unpackedDir ?? 'missing');
const resources = join(app, 'resources');
const asar = require('@electron/asar');
const entries = new Set(asar.listPackage(join(resources, 'app.asar')).map((p) => p.replaceAll('\\', '/')));
for (const file of ['/package.json', '/out/main/index.js', '/out/main/cli.js', '/out/preload/index.cjs', '/out/renderer/index.html']) check(entries.has(file), `app.asar contains ${file}`);
for (const mod of ['better-sqlite3', 'zod', 'ws', 'execa']) check(entries.has(`/node_modules/${mod}/package.json`), `app.asar contains the production module ${mod}`);
const leaked = [...entries].filter((p) => /^\/(src|python|e2e|bench|scripts|resources)\//.test(p) || /^\/node_modules\/(electron|electron-builder|vitest|typescript|vite|@playwright)\//.test(p) || p.endsWith('.map'));
check(leaked.length === 0, `app.asar has no sources, dev dependencies or source maps${leaked.length ? `: ${leaked.slice(0, 5).join(', ')}` : ''}`);
const nativeModule = join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node');
check(existsSync(nativeModule), 'better-sqlite3 .node unpacked (app.asar.unpacked/node_modules/better-sqlite3/build/Release)');
check(!existsSync(join(resources, 'app.asar.unpacked', 'node_modules', 'better-sqlite3', 'deps')), 'better-sqlite3 C sources left out');
check(existsSync(join(resources, 'python', 'sfa_sidecar', '__main__.py')), 'resources/python/sfa_sidecar (the sidecar sources)');
check(existsSync(join(resources, 'resources', 'icon.png')), 'resources/resources/icon.png (the drag-out image)');
const pycache = spawnSync(process.execPath, ['-e', `
  const { readdirSync } = require('node:fs'); const { join } = require('node:path');
  const walk = (d) => readdirSync(d, { withFileTypes: true }).some((e) => e.name === '__pycache__' || (e.isDirectory() && walk(join(d, e.name))));
  process.exit(walk(process.argv[1]) ? 1 : 0);`, join(resources, 'python')]);
check(pycache.status === 0, 'no __pycache__ in resources/python');
const locks = readdirSync(join(root, 'python', 'locks')).filter((f) => f.endsWith('.txt'));
check(locks.length >= 6 && locks.every((f) => existsSync(join(resources, 'python', 'locks', f))), `resources/python/locks: ${locks.join(', ')}`);
check(existsSync(join(resources, 'python', 'runtime.json')), 'resources/python/runtime.json (the pinned Python runtime)');
const appExe = join(app, isWindows ? 'Sound Forge Alchemy.exe' : 'sound-forge-alchemy');
check(existsSync(appExe), `the executable is named ${isWindows ? 'Sound Forge Alchemy.exe' : 'sound-forge-alchemy'}`);
const runtimeNote = existsSync(join(resources, 'python-runtime')) ? 'bundled' : 'absent (npm run dist fetches it; the app can download it at first run)';
log(`python runtime in resources/python-runtime: ${runtimeNote}`);
log(`app.asar ${(statSync(join(resources, 'app.asar')).size / 1e6).toFixed(1)} MB, ${entries.size} entries`);

writeFileSync(join(app, 'NOT-RUNNABLE.txt'), 'Made by `npm run dist:dir` with a stand-in Electron and native modules built for Node, not Electron. A layout check only.\n');
if (args.has('--keep')) log(`kept: ${app}`);
else rmSync(tmp, { recursive: true, force: true });
if (failures.length) {
  log(`${failures.length} check(s) FAILED`);
  process.exit(1);
}
log('configuration valid, layout as expected. NOTE: this is not a runnable app (stand-in Electron, native modules built for Node); installers come from `npm run dist` on a machine with internet access.');
