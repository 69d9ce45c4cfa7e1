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
  provision,
  readState,
  sha256,
  userEnvDir,
  venvPython,
  type ProvisionEvent,
} from '../../../scripts/provision/index.mjs';
import { PYTHON_NO_BYTECODE } from '../sidecar/environment';
import { basePython, REQUIRED_PINS, writeFakeSidecar, writeRequiredWheels, writeWheel } from './fixtures';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'sfa-provision-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('locks and keys', () => {
  it('keys an environment by its lock, so an update rebuilds only when the lock changed', () => {
    expect(lockHash('a==1\n')).toBe(lockHash('a==1\n'));
    expect(lockHash('a==1\n')).not.toBe(lockHash('a==2\n'));
    expect(userEnvDir('/data/python', 'a==1\n', 'linux')).toBe(join('/data/python', lockHash('a==1\n').slice(0, 12)));
    expect(lockHash('x')).toMatch(/^[0-9a-f]{16}$/);
  });

});

describe('provision (real venv, offline wheel folder)', () => {
  it('installs a lock from a folder of wheels, verifies with the sidecar doctor, then skips everything on a re-run', async () => {
    const offline = join(work, 'offline');
    writeWheel(join(offline, 'wheels'), 'sfa_tiny', '1.0');
    writeRequiredWheels(join(offline, 'wheels'));
    mkdirSync(join(offline, 'models'), { recursive: true });
    writeFileSync(join(offline, 'models', 'tiny.yaml'), 'models: [abc123]\n');
    writeFileSync(join(offline, 'models', 'abc123.th'), 'weights');
    const lockFile = join(work, 'lock-ok.txt');
    writeFileSync(lockFile, `sfa_tiny==1.0\n${REQUIRED_PINS}`);
    const envDir = join(work, 'env-ok');
    const modelsDir = join(work, 'models');
    const packageRoot = writeFakeSidecar(join(work, 'sidecar-ok'), { torch: '2.13.0', demucs: '4.1.0', librosa: '0.11.0' });
    const events: ProvisionEvent[] = [];
    // what the app passes: nothing written next to the sidecar's sources (a signed bundle, a read-only mount)
    const options = { envDir, lockFile, packageRoot, offlineDir: offline, modelsDir, pythonCandidates: [basePython], verifyEnv: { ...PYTHON_NO_BYTECODE }, onProgress: (e: ProvisionEvent) => events.push(e) };

    const first = await provision(options);
    expect(first.ran).toEqual(['python', 'venv', 'packages', 'models', 'verify']);
    const imported = spawnSync(venvPython(envDir), ['-c', 'import sfa_tiny; print(sfa_tiny.VERSION)'], { encoding: 'utf8' });
    expect(imported.stdout.trim()).toBe('1.0');
    expect(readFileSync(join(modelsDir, 'abc123.th'), 'utf8')).toBe('weights');
    expect(existsSync(join(modelsDir, 'tiny.yaml'))).toBe(true);
    expect(events.some((e) => e.step === 'packages' && e.fraction > 0 && e.fraction < 1)).toBe(true);
    expect(events.at(-1)).toMatchObject({ step: 'verify', fraction: 1, overall: 1 });
    expect(environmentStatus(envDir, `sfa_tiny==1.0\n${REQUIRED_PINS}`)).toMatchObject({ ready: true, failed: null });
    expect(existsSync(join(packageRoot, 'sfa_sidecar', '__pycache__'))).toBe(false);

    const started = Date.now();
    const again = await provision(options);
    expect(again.ran).toEqual([]);
    expect(again.skipped).toEqual(['python', 'venv', 'packages', 'models', 'verify']);
    expect(Date.now() - started).toBeLessThan(3000);
  }, 120_000);

  it('fails a step with next steps, records it, and resumes from that step once the cause is fixed', async () => {
    const offline = join(work, 'offline-partial');
    const lockFile = join(work, 'lock-fail.txt');
    writeFileSync(lockFile, `sfa_missing==2.0\n${REQUIRED_PINS}`);
    const envDir = join(work, 'env-fail');
    const packageRoot = writeFakeSidecar(join(work, 'sidecar-fail'), { torch: '2.13.0', demucs: '4.1.0', librosa: '0.11.0' });
    writeRequiredWheels(join(offline, 'wheels'));
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
    expect(environmentStatus(envDir, `sfa_missing==2.0\n${REQUIRED_PINS}`)).toMatchObject({ ready: false, done: ['python', 'venv'], failed: { step: 'packages' } });

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
