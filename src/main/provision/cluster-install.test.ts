/**
 * The provisioning core's installCluster on a real interpreter (a bare venv without Ray) with a
 * stand-in pip: the arguments it gets, progress from its lines, `import ray` checked after it,
 * failures turned into next steps from pip's own messages, and a stop that ends its process tree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOWNLOAD_ESTIMATES_MB, installCluster, venvPython, type ClusterInstallEvent, type ProvisionError } from '../../../scripts/provision/index.mjs';
import { appRoot } from '../paths';
import { basePython } from './fixtures';
import { processAlive as alive } from '../../test/fixtures';

const requirements = join(appRoot(), 'python', 'requirements-cluster.txt');
let work: string;
let python: string;
/** Where the stand-in pip "installs" (on PYTHONPATH of both pip and the import check). */
let site: string;


/** A pip that records its arguments, prints `lines`, installs a `ray` package when told, and exits with `code`. */
function fakePip(name: string, { lines, code = 0, installs = true, sleep = 0 }: { lines: string[]; code?: number; installs?: boolean; sleep?: number }): string {
  const file = join(work, `${name}.py`);
  writeFileSync(
    file,
    `import json, os, subprocess, sys, time
open(${JSON.stringify(join(work, `${name}.args`))}, "w").write(json.dumps(sys.argv[1:]))
child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"]) if ${sleep ? 'True' : 'False'} else None
open(${JSON.stringify(join(work, `${name}.pids`))}, "w").write(f"{os.getpid()} {child.pid if child else 0}")
for line in ${JSON.stringify(lines)}:
    print(line, flush=True)
time.sleep(${sleep})
if ${installs ? 'True' : 'False'}:
    os.makedirs(os.path.join(${JSON.stringify(site)}, "ray"), exist_ok=True)
    open(os.path.join(${JSON.stringify(site)}, "ray", "__init__.py"), "w").write("__version__ = '2.60.0'\\n")
sys.exit(${code})
`,
  );
  return file;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sfa-cluster-install-'));
  site = join(work, 'site');
  mkdirSync(site);
  // a bare environment: no pip, no Ray (the stand-in pip is run by this interpreter)
  const made = spawnSync(basePython, ['-m', 'venv', '--without-pip', join(work, 'env')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(made.stderr);
  python = venvPython(join(work, 'env'));
}, 60_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (pip: string, extra: { signal?: AbortSignal; events?: ClusterInstallEvent[]; offlineDir?: string } = {}) =>
  installCluster({ python, requirements, pipCommand: [pip], env: { PYTHONPATH: site }, signal: extra.signal, offlineDir: extra.offlineDir, onProgress: (e) => extra.events?.push(e) });

describe('installCluster', () => {
  it('pip-installs the pinned cluster requirements with --no-deps, reports progress from its lines, and checks that ray imports', async () => {
    rmSync(join(site, 'ray'), { recursive: true, force: true });
    expect(spawnSync(python, ['-c', 'import ray'], { env: { ...process.env, PYTHONPATH: site } }).status).not.toBe(0);
    const events: ClusterInstallEvent[] = [];
    const pip = fakePip('ok', { lines: ['Collecting ray==2.60.0', '  Downloading ray-2.60.0-cp311-cp311-manylinux2014_x86_64.whl (71.2 MB)', 'Collecting grpcio==1.85.3', 'Installing collected packages: ray, grpcio', 'Successfully installed ray-2.60.0'] });
    const result = await run(pip, { events });
    expect(result).toEqual({ python, version: '2.60.0' });
    const args = JSON.parse(readFileSync(join(work, 'ok.args'), 'utf8')) as string[];
    expect(args).toEqual(['install', '--disable-pip-version-check', '--no-input', '--progress-bar', 'off', '--no-deps', '-r', requirements]);
    expect(events[0]).toMatchObject({ step: 'cluster', fraction: 0 });
    const downloading = events.find((e) => e.message.startsWith('Downloading ray-2.60.0'));
    expect(downloading).toMatchObject({ step: 'cluster', bytes: 71_200_000 });
    expect(downloading!.fraction).toBeGreaterThan(0);
    expect(downloading!.fraction).toBeLessThan(1);
    expect(events.map((e) => e.message)).toContain('Installing the packages…');
    expect(events.at(-1)).toMatchObject({ step: 'cluster', fraction: 1, overall: 1, message: 'Ray 2.60.0 ready' });
    expect(DOWNLOAD_ESTIMATES_MB.cluster).toBeGreaterThan(0);
  }, 60_000);

  it('passes an offline folder of wheels to pip instead of PyPI', async () => {
    const offline = join(work, 'offline');
    mkdirSync(join(offline, 'wheels'), { recursive: true });
    await run(fakePip('offline', { lines: [] }), { offlineDir: offline });
    const args = JSON.parse(readFileSync(join(work, 'offline.args'), 'utf8')) as string[];
    expect(args.slice(-3)).toEqual(['--no-index', '--find-links', join(offline, 'wheels')]);
  }, 60_000);

  it("fails with next steps that follow pip's message: disk full, network down", async () => {
    const full = (await run(fakePip('full', { lines: ['Collecting ray==2.60.0', "ERROR: Could not install packages due to an OSError: [Errno 28] No space left on device"], code: 1, installs: false })).catch((e: unknown) => e)) as ProvisionError;
    expect(full).toMatchObject({ name: 'ProvisionError', step: 'cluster' });
    expect(full.message).toBe('Installing Ray failed: no space left on the disk (pip exit 1).');
    expect(full.nextSteps[0]).toMatch(/^Free about \d+ MB on the disk holding /);
    expect(full.detail).toContain('[Errno 28] No space left on device');

    const offline = (await run(fakePip('net', {
      lines: ["WARNING: Retrying (Retry(total=4)) after connection broken by 'NewConnectionError(\"Failed to establish a new connection: [Errno -3] Temporary failure in name resolution\")': /simple/ray/", 'ERROR: No matching distribution found for ray==2.60.0'],
      code: 1,
      installs: false,
    })).catch((e: unknown) => e)) as ProvisionError;
    expect(offline.message).toBe('Installing Ray failed: PyPI could not be reached (pip exit 1).');
    expect(offline.nextSteps.join(' ')).toMatch(/Check the internet connection .* install again/);
    expect(offline.nextSteps.join(' ')).toMatch(/offline folder/);
  }, 60_000);

  it('fails when pip succeeded but ray does not import, and when there is no environment yet', async () => {
    rmSync(join(site, 'ray'), { recursive: true, force: true });
    const broken = (await run(fakePip('noimport', { lines: ['Successfully installed ray-2.60.0'], installs: false })).catch((e: unknown) => e)) as ProvisionError;
    expect(broken.step).toBe('cluster');
    expect(broken.message).toMatch(/^Ray was installed but does not import in .*No module named 'ray'/);

    const missing = (await installCluster({ python: join(work, 'nowhere', 'bin', 'python'), requirements }).catch((e: unknown) => e)) as ProvisionError;
    expect(missing.message).toMatch(/^No Python environment at /);
    expect(missing.nextSteps[0]).toMatch(/Finish the engine setup first/);
  }, 60_000);

  it('stops: ends pip and what it started, and says so (cancelled, not failed)', async () => {
    const controller = new AbortController();
    const running = run(fakePip('slow', { lines: ['Collecting ray==2.60.0'], sleep: 600 }), { signal: controller.signal });
    const pids = join(work, 'slow.pids');
    const started = Date.now();
    while (!existsSync(pids) && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 100));
    const [pip, child] = readFileSync(pids, 'utf8').split(' ').map(Number) as [number, number];
    expect(alive(pip) && alive(child)).toBe(true);
    controller.abort();
    expect(await running.catch((e: unknown) => e)).toMatchObject({ step: 'cluster', cancelled: true, message: 'The Ray install was stopped.' });
    const gone = Date.now();
    while ((alive(pip) || alive(child)) && Date.now() - gone < 10_000) await new Promise((r) => setTimeout(r, 50));
    expect([alive(pip), alive(child)]).toEqual([false, false]);
  }, 60_000);
});
