/**
 * The provisioned environment survives the app moving (an AppImage mounts at a new /tmp/.mount_*
 * path on every launch), is rebuilt with everything resting on it when its interpreter changed,
 * stops with the app (pip's process tree ended) and is never worked on by two runs at once.
 * Real venvs, real pip on tiny wheels, real imports; a fake pip only where a run must be slow.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  acquireEnvLock,
  envLockPath,
  environmentStatus,
  probePython,
  provision,
  readState,
  runtimePython,
  venvPython,
  type ProvisionError,
  type ProvisionEvent,
  type ProvisionOptions,
} from '../../../scripts/provision/index.mjs';
import { basePython, REQUIRED_PINS, writeFakeSidecar, writeRequiredWheels } from './fixtures';
import { processAlive as alive } from '../../test/fixtures';

const isWindows = process.platform === 'win32';
let work: string;
let offline: string;
let lockFile: string;
let packageRoot: string;
let envDir: string;
const lockText = () => readFileSync(lockFile, 'utf8');
const imports = (envDir: string) => spawnSync(venvPython(envDir), ['-c', 'import torch, demucs, librosa; print("ok")'], { encoding: 'utf8' }).stdout.trim();

/** A stand-in for python-build-standalone's `install_only` layout: python/bin/python3 -> a real CPython 3.11. */
function fakeRuntime(resources: string): string {
  const real = probePython(basePython)!.executable;
  const dir = join(resources, 'python-runtime');
  mkdirSync(join(dir, 'python', 'bin'), { recursive: true });
  symlinkSync(real, runtimePython(dir));
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sfa-relocate-'));
  offline = join(work, 'offline');
  writeRequiredWheels(join(offline, 'wheels'));
  envDir = join(work, 'data', 'env');
  lockFile = join(work, 'lock.txt');
  writeFileSync(lockFile, REQUIRED_PINS);
  packageRoot = writeFakeSidecar(join(work, 'sidecar'), { torch: '0.0.1', demucs: '0.0.1', librosa: '0.0.1' });
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

// One environment walks through the file (venv creation dominates the time): made from the
// bundled runtime, moved, rebuilt from another interpreter, then stopped and locked.
describe.skipIf(isWindows)('an environment made from the runtime bundled in the app', () => {
  it('keeps working when the app folder moves between launches (AppImage mount, translocation, update)', async () => {
    const runtimeDir = join(work, 'data', 'runtime', '3.11.x');
    const first = join(work, 'mount-1');
    const options = (resources: string): ProvisionOptions => ({
      envDir,
      lockFile,
      packageRoot,
      offlineDir: offline,
      caller: 'app',
      runtime: { dir: runtimeDir, bundledDir: join(resources, 'python-runtime') },
    });
    fakeRuntime(first);

    const launch1 = await provision(options(first));
    expect(launch1.ran).toEqual(['python', 'venv', 'packages', 'models', 'verify']);
    const cfg = readFileSync(join(envDir, 'pyvenv.cfg'), 'utf8');
    expect(cfg).toContain(join(runtimeDir, 'python', 'bin'));
    expect(cfg).not.toContain(first);

    // the next launch: the app is mounted somewhere else and the old mount is gone
    const second = join(work, 'mount-2');
    renameSync(first, second);
    expect(environmentStatus(envDir, lockText())).toMatchObject({ ready: true });
    const launch2 = await provision(options(second));
    expect(launch2.ran).toEqual([]);
    expect(imports(envDir)).toBe('ok');
  }, 180_000);

  it('rebuilds the venv when its interpreter is gone and redoes every step resting on it, so "ready" always imports', async () => {
    // the interpreter the venv was made from disappears (the old bug: a venv pointing into a
    // vanished mount); this launch brings its runtime to a new place
    rmSync(join(work, 'data', 'runtime'), { recursive: true, force: true });
    const runtimeDir = join(work, 'data', 'runtime', '3.11.y');
    expect(environmentStatus(envDir, lockText())).toMatchObject({ ready: false });
    const rebuilt = await provision({ envDir, lockFile, packageRoot, offlineDir: offline, runtime: { dir: runtimeDir, bundledDir: join(work, 'mount-2', 'python-runtime') } });
    expect(rebuilt.ran).toEqual(['python', 'venv', 'packages', 'verify']);
    expect(readFileSync(join(envDir, 'pyvenv.cfg'), 'utf8')).toContain(join(runtimeDir, 'python', 'bin'));
    expect(imports(envDir)).toBe('ok');
    expect(environmentStatus(envDir, lockText())).toMatchObject({ ready: true });
  }, 180_000);
});

describe('stopping and locking', () => {
  beforeAll(async () => {
    if (!existsSync(venvPython(envDir))) await provision({ envDir, lockFile, packageRoot, offlineDir: offline, pythonCandidates: [basePython], skip: ['packages', 'models', 'verify'] });
    // packages and what rests on them not done yet
    const state = readState(envDir) as { steps: Record<string, unknown> };
    state.steps = { python: state.steps.python, venv: state.steps.venv };
    writeFileSync(join(envDir, '.sfa-provision.json'), JSON.stringify(state));
  }, 120_000);

  it('ends pip and the processes it started when the run is stopped, keeps the step pending, and resumes', async () => {
    // a pip that starts a child of its own and then takes "minutes"
    const pids = join(work, 'fake-pip.pids');
    const fakePip = join(work, 'fake-pip.py');
    writeFileSync(
      fakePip,
      `import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
open(${JSON.stringify(pids)}, "w").write(f"{__import__('os').getpid()} {child.pid}")
print("Collecting torch==0.0.1", flush=True)
time.sleep(600)
`,
    );
    const controller = new AbortController();
    const running = provision({ envDir, lockFile, packageRoot, offlineDir: offline, pipCommand: [fakePip], signal: controller.signal });
    const started = Date.now();
    while (!existsSync(pids) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
    const [pip, child] = readFileSync(pids, 'utf8').split(' ').map(Number) as [number, number];
    expect(alive(pip) && alive(child)).toBe(true);
    expect(JSON.parse(readFileSync(envLockPath(envDir), 'utf8'))).toMatchObject({ pid: process.pid, child: pip });

    controller.abort();
    const error = (await running.catch((e: unknown) => e)) as ProvisionError;
    expect(error).toMatchObject({ step: 'packages', cancelled: true });
    const gone = Date.now();
    while ((alive(pip) || alive(child)) && Date.now() - gone < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect([alive(pip), alive(child)]).toEqual([false, false]);
    expect(readState(envDir)).toMatchObject({ failed: null });
    expect(Object.keys((readState(envDir) as { steps: object }).steps)).toEqual(['python', 'venv']);
    expect(existsSync(envLockPath(envDir))).toBe(false);

    const resumed = await provision({ envDir, lockFile, packageRoot, offlineDir: offline });
    expect(resumed.ran).toEqual(['packages', 'models', 'verify']);
  }, 120_000);

  it('stops during verify without waiting for the sidecar to answer', async () => {
    const state = readState(envDir) as { steps: Record<string, unknown> };
    delete state.steps.verify;
    writeFileSync(join(envDir, '.sfa-provision.json'), JSON.stringify(state));
    // a sidecar that never says hello (and ends when its stdin closes)
    const silent = join(work, 'sidecar-silent');
    mkdirSync(join(silent, 'sfa_sidecar'), { recursive: true });
    writeFileSync(join(silent, 'sfa_sidecar', '__init__.py'), '');
    writeFileSync(join(silent, 'sfa_sidecar', '__main__.py'), 'import sys\nsys.stdin.read()\n');
    const controller = new AbortController();
    const events: ProvisionEvent[] = [];
    const running = provision({ envDir, lockFile, packageRoot: silent, offlineDir: offline, signal: controller.signal, onProgress: (e) => events.push(e) });
    const waited = Date.now();
    while (!events.some((e) => e.message === 'Starting the engine sidecar…') && Date.now() - waited < 30_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    const stopped = Date.now();
    controller.abort();
    expect(await running.catch((e: unknown) => e)).toMatchObject({ step: 'verify', cancelled: true });
    expect(Date.now() - stopped).toBeLessThan(2000);
    expect((await provision({ envDir, lockFile, packageRoot, offlineDir: offline })).ran).toEqual(['verify']);
  }, 60_000);

  it('waits while another live run holds the environment, then goes on', async () => {
    const held = await acquireEnvLock(envDir);
    const events: ProvisionEvent[] = [];
    let finished = false;
    const second = provision({ envDir, lockFile, packageRoot, offlineDir: offline, onProgress: (e) => events.push(e) }).then((r) => ((finished = true), r));
    await new Promise((r) => setTimeout(r, 600));
    expect(finished).toBe(false);
    expect(events.map((e) => e.message)).toContain(`Waiting for another setup (process ${process.pid}) to finish…`);
    held.release();
    expect((await second).ran).toEqual([]);
  }, 60_000);

  it("takes over the lock of a run whose process has ended, and ends the pip it left behind", async () => {
    const orphan = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { detached: !isWindows, stdio: 'ignore' });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    mkdirSync(dirname(envLockPath(envDir)), { recursive: true });
    writeFileSync(envLockPath(envDir), JSON.stringify({ pid: Number(dead.stdout), host: (await import('node:os')).hostname(), at: new Date().toISOString(), child: orphan.pid }));
    const lines: string[] = [];
    const result = await provision({ envDir, lockFile, packageRoot, offlineDir: offline, onOutput: (l) => lines.push(l) });
    expect(result.ran).toEqual([]);
    expect(lines.join('\n')).toMatch(new RegExp(`taking over the setup lock of process ${dead.stdout} \\(process ${dead.stdout} has ended\\)`));
    const waited = Date.now();
    while (alive(orphan.pid!) && Date.now() - waited < 5000) await new Promise((r) => setTimeout(r, 50));
    expect(alive(orphan.pid!)).toBe(false);
  }, 60_000);
});
