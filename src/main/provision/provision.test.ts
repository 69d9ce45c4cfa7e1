/**
 * The provisioning core (scripts/provision/index.mjs) on real interpreters: a temp venv, a tiny
 * wheel written here, `pip install --no-index --find-links`, a stand-in sidecar for `verify`.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ProvisionError,
  download,
  environmentStatus,
  lockHash,
  lockName,
  provision,
  readState,
  renderLocks,
  selectLock,
  sha256,
  userEnvDir,
  venvPython,
  type ProvisionEvent,
} from '../../../scripts/provision/index.mjs';
import { appRoot } from '../paths';

const root = appRoot();
const isWindows = process.platform === 'win32';
const devPython = join(root, 'python', '.venv', isWindows ? 'Scripts/python.exe' : 'bin/python');
const basePython = process.env.SFA_BOOTSTRAP_PYTHON ?? (existsSync(devPython) ? devPython : 'python3.11');
let work: string;

/** A minimal pure-Python wheel, zipped by Python's zipfile (a wheel is a zip with a RECORD). */
function writeWheel(dir: string, name: string, version: string): string {
  mkdirSync(dir, { recursive: true });
  const script = `
import base64, hashlib, sys, zipfile
name, version, out = sys.argv[1], sys.argv[2], sys.argv[3]
dist = f"{name}-{version}.dist-info"
files = {
  f"{name}/__init__.py": f"VERSION = {version!r}\\n",
  f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {name}\\nVersion: {version}\\n",
  f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: sfa-test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
}
record = []
path = f"{out}/{name}-{version}-py3-none-any.whl"
with zipfile.ZipFile(path, "w") as z:
  for p, text in files.items():
    data = text.encode()
    z.writestr(p, data)
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    record.append(f"{p},sha256={digest},{len(data)}")
  record.append(f"{dist}/RECORD,,")
  z.writestr(f"{dist}/RECORD", "\\n".join(record) + "\\n")
print(path)
`;
  const r = spawnSync(basePython, ['-c', script, name, version, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.trim();
}

/** A stand-in `sfa_sidecar` that answers hello and doctor like the real one, without torch. */
function writeFakeSidecar(dir: string, versions: Record<string, string | null>): string {
  mkdirSync(join(dir, 'sfa_sidecar'), { recursive: true });
  writeFileSync(join(dir, 'sfa_sidecar', '__init__.py'), '');
  writeFileSync(
    join(dir, 'sfa_sidecar', '__main__.py'),
    `import json, sys
print(json.dumps({"type": "hello", "protocol": 1, "versions": ${JSON.stringify(versions).replaceAll('null', 'None')}}), flush=True)
for line in sys.stdin:
    m = json.loads(line)
    if m.get("type") == "request":
        print(json.dumps({"type": "result", "id": m["id"], "result": {"versions": ${JSON.stringify(versions).replaceAll('null', 'None')}, "devices": [], "ffmpeg": sys.executable}}), flush=True)
    if m.get("type") == "shutdown":
        break
`,
  );
  return dir;
}

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sfa-provision-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('locks and keys', () => {
  it('keys an environment by its lock, so an update rebuilds only when the lock changed', () => {
    expect(lockHash('a==1\n')).toBe(lockHash('a==1\n'));
    expect(lockHash('a==1\n')).not.toBe(lockHash('a==2\n'));
    expect(userEnvDir('/data', 'a==1\n')).toBe(join('/data', 'python', lockHash('a==1\n')));
    expect(lockHash('x')).toMatch(/^[0-9a-f]{16}$/);
  });

  it('chooses the lock from the platform and the detected accelerator', () => {
    expect(lockName('linux', 'x64', 'cuda')).toBe('linux-cuda');
    expect(lockName('linux', 'x64', 'cpu')).toBe('linux-cpu');
    expect(lockName('win32', 'x64', 'cuda')).toBe('windows-cuda');
    expect(lockName('win32', 'x64', 'cpu')).toBe('windows-cpu');
    expect(lockName('darwin', 'arm64', 'mps')).toBe('macos-arm64');
    expect(lockName('darwin', 'x64', 'cpu')).toBe('macos-x64');
    const chosen = selectLock(join(root, 'python', 'locks'), { platform: 'linux', arch: 'x64', accelerator: 'cpu' });
    expect(chosen.text).toBe(readFileSync(join(root, 'python', 'requirements.txt'), 'utf8'));
  });

  it('keeps python/locks in step with python/requirements.txt (CPU verbatim; CUDA differs only in torch)', () => {
    const requirements = readFileSync(join(root, 'python', 'requirements.txt'), 'utf8');
    const locks = renderLocks(requirements);
    for (const [name, text] of Object.entries(locks)) expect(readFileSync(join(root, 'python', 'locks', `${name}.txt`), 'utf8'), `${name}: run node scripts/locks.mjs`).toBe(text);
    expect(locks['linux-cpu']).toBe(requirements);
    const pins = (text: string) => text.split('\n').filter((l) => l && !l.startsWith('#') && !l.startsWith('-'));
    const cuda = pins(locks['linux-cuda']!);
    const cpu = pins(requirements);
    expect(cuda.filter((l) => !cpu.includes(l))).toEqual([expect.stringMatching(/^torch==[\d.]+\+cu\d+$/)]);
    expect(locks['linux-cuda']).toContain('--extra-index-url https://download.pytorch.org/whl/cu');
  });
});

describe('provision (real venv, offline wheel folder)', () => {
  it('installs a lock from a folder of wheels, verifies with the sidecar doctor, then skips everything on a re-run', async () => {
    const offline = join(work, 'offline');
    writeWheel(join(offline, 'wheels'), 'sfa_tiny', '1.0');
    mkdirSync(join(offline, 'models'), { recursive: true });
    writeFileSync(join(offline, 'models', 'tiny.yaml'), 'models: [abc123]\n');
    writeFileSync(join(offline, 'models', 'abc123.th'), 'weights');
    const lockFile = join(work, 'lock-ok.txt');
    writeFileSync(lockFile, 'sfa_tiny==1.0\n');
    const envDir = join(work, 'env-ok');
    const modelsDir = join(work, 'models');
    const packageRoot = writeFakeSidecar(join(work, 'sidecar-ok'), { torch: '2.13.0', demucs: '4.1.0', librosa: '0.11.0' });
    const events: ProvisionEvent[] = [];
    const options = { envDir, lockFile, packageRoot, offlineDir: offline, modelsDir, pythonCandidates: [basePython], onProgress: (e: ProvisionEvent) => events.push(e) };

    const first = await provision(options);
    expect(first.ran).toEqual(['python', 'venv', 'packages', 'models', 'verify']);
    const imported = spawnSync(venvPython(envDir), ['-c', 'import sfa_tiny; print(sfa_tiny.VERSION)'], { encoding: 'utf8' });
    expect(imported.stdout.trim()).toBe('1.0');
    expect(readFileSync(join(modelsDir, 'abc123.th'), 'utf8')).toBe('weights');
    expect(existsSync(join(modelsDir, 'tiny.yaml'))).toBe(true);
    expect(events.some((e) => e.step === 'packages' && e.fraction > 0 && e.fraction < 1)).toBe(true);
    expect(events.at(-1)).toMatchObject({ step: 'verify', fraction: 1, overall: 1 });
    expect(environmentStatus(envDir, 'sfa_tiny==1.0\n')).toMatchObject({ ready: true, failed: null });

    const started = Date.now();
    const again = await provision(options);
    expect(again.ran).toEqual([]);
    expect(again.skipped).toEqual(['python', 'venv', 'packages', 'models', 'verify']);
    expect(Date.now() - started).toBeLessThan(3000);
  }, 120_000);

  it('fails a step with next steps, records it, and resumes from that step once the cause is fixed', async () => {
    const offline = join(work, 'offline-partial');
    const lockFile = join(work, 'lock-fail.txt');
    writeFileSync(lockFile, 'sfa_missing==2.0\n');
    const envDir = join(work, 'env-fail');
    const packageRoot = writeFakeSidecar(join(work, 'sidecar-fail'), { torch: '2.13.0', demucs: '4.1.0', librosa: '0.11.0' });
    mkdirSync(join(offline, 'wheels'), { recursive: true });
    const options = { envDir, lockFile, packageRoot, offlineDir: offline, pythonCandidates: [basePython] };

    const error = await provision(options).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ProvisionError);
    const failure = error as ProvisionError;
    expect(failure.step).toBe('packages');
    expect(failure.message).toMatch(/offline folder/);
    expect(failure.nextSteps.join(' ')).toMatch(/wheels/);
    expect(failure.detail).toMatch(/sfa_missing|No matching distribution/i);
    const state = readState(envDir) as { steps: Record<string, unknown>; failed: { step: string } };
    expect(Object.keys(state.steps)).toEqual(['python', 'venv']);
    expect(state.failed.step).toBe('packages');
    expect(environmentStatus(envDir, 'sfa_missing==2.0\n')).toMatchObject({ ready: false, done: ['python', 'venv'], failed: { step: 'packages' } });

    writeWheel(join(offline, 'wheels'), 'sfa_missing', '2.0');
    const resumed = await provision(options);
    expect(resumed.skipped).toEqual(['python', 'venv']);
    expect(resumed.ran).toEqual(['packages', 'models', 'verify']);
  }, 120_000);

  it('fails verify when the sidecar reports a missing library', async () => {
    const offline = join(work, 'offline');
    const lockFile = join(work, 'lock-ok.txt');
    const envDir = join(work, 'env-ok');
    const packageRoot = writeFakeSidecar(join(work, 'sidecar-notorch'), { torch: null, demucs: '4.1.0', librosa: '0.11.0' });
    const error = (await provision({ envDir, lockFile, packageRoot, offlineDir: offline, pythonCandidates: [basePython], force: true }).catch((e: unknown) => e)) as ProvisionError;
    expect(error.step).toBe('verify');
    expect(error.message).toMatch(/lacks torch/);
  }, 120_000);

  it('says which interpreters it tried when no Python 3.11 is found', async () => {
    const lockFile = join(work, 'lock-ok.txt');
    const error = (await provision({ envDir: join(work, 'env-nopy'), lockFile, packageRoot: work, pythonCandidates: ['/nonexistent/python3.11'], caller: 'dev' }).catch((e: unknown) => e)) as ProvisionError;
    expect(error.step).toBe('python');
    expect(error.detail).toContain('/nonexistent/python3.11: does not run');
    expect(error.nextSteps.join(' ')).toMatch(/SFA_BOOTSTRAP_PYTHON/);
  });
});

describe('download', () => {
  let server: Server;
  let url: string;
  const body = Buffer.alloc(200_000, 7);
  let rangeSeen: string | undefined;
  beforeAll(async () => {
    server = createServer((req, res) => {
      rangeSeen = req.headers.range;
      const start = req.headers.range ? Number(/bytes=(\d+)-/.exec(req.headers.range)![1]) : 0;
      res.writeHead(start ? 206 : 200, { 'content-length': String(body.length - start) });
      res.end(body.subarray(start));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const address = server.address();
    url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/runtime.tar.gz`;
  });
  afterAll(() => server.close());

  it('resumes a partial file with a Range request and checks the sha256', async () => {
    const dest = join(work, 'dl', 'runtime.tar.gz');
    mkdirSync(join(work, 'dl'), { recursive: true });
    writeFileSync(`${dest}.part`, body.subarray(0, 50_000));
    let last = 0;
    await download(url, dest, { sha256: sha256(body), onBytes: (b) => (last = b) });
    expect(rangeSeen).toBe('bytes=50000-');
    expect(readFileSync(dest).equals(body)).toBe(true);
    expect(last).toBe(body.length);
    await expect(download(url, join(work, 'dl', 'bad.tar.gz'), { sha256: '0'.repeat(64) })).rejects.toThrow(/checksum mismatch/);
    expect(existsSync(join(work, 'dl', 'bad.tar.gz.part'))).toBe(false);
  });
});
