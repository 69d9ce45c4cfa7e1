/**
 * The engine (src/main/engine.ts) bundled with rolldown for benchmarks that drive it in a process
 * of their own, as the app does: this checkout's, or an earlier commit's (extracted with
 * `git archive`) so that a benchmark can compare with the code it replaced in the same run.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'rolldown';

const EXTERNAL = ['better-sqlite3', 'execa', 'ws', 'zod', 'electron', /^node:/];

/** Bundles `<srcRoot>/src/main/engine.ts` into `outDir/engine.mjs`; returns its path. */
export async function bundleEngine(srcRoot, outDir) {
  await build({
    input: { engine: join(srcRoot, 'src/main/engine.ts') },
    platform: 'node',
    external: EXTERNAL,
    output: { dir: outDir, format: 'esm', entryFileNames: '[name].mjs', chunkFileNames: '[name]-[hash].mjs' },
    logLevel: 'silent',
  });
  return join(outDir, 'engine.mjs');
}

/** The engine as it was at `commit`, bundled (null when this is not a git checkout holding it). */
export async function bundleEngineAt(root, commit, outDir) {
  const src = join(outDir, 'src-tree');
  try {
    execFileSync('git', ['-C', root, 'cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' });
  } catch {
    return null;
  }
  rmSync(src, { recursive: true, force: true });
  mkdirSync(src, { recursive: true });
  const tar = execFileSync('git', ['-C', root, 'archive', '--format=tar', commit, '--', 'src', 'scripts', 'python/sfa_sidecar'], { maxBuffer: 1 << 30 });
  execFileSync('tar', ['-x', '-C', src], { input: tar });
  if (!existsSync(join(src, 'src/main/engine.ts'))) return null;
  return bundleEngine(src, outDir);
}

/**
 * Runs `script --child engineModule HOME ...args` in a node process of its own on a fresh, temporary
 * library home (removed afterwards), so each measured run starts as the app does; resolves with the
 * JSON object the child prints as its last stdout line.
 */
export function runEngineChild(script, engineModule, args, { root, label }) {
  const home = mkdtempSync(join(tmpdir(), `sfa-bench-${label}-`));
  return new Promise((resolveRun, reject) => {
    const proc = spawn(process.execPath, [script, '--child', engineModule, home, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SFA_APP_ROOT: root },
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.on('exit', (code) => {
      rmSync(home, { recursive: true, force: true });
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`${label} run failed (exit ${code}): ${out.slice(-2000)}`));
      else resolveRun(JSON.parse(line));
    });
  });
}
