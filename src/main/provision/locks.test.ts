/**
 * The locks users install from (python/locks/*.txt): chosen per machine, in step with
 * python/requirements.txt, and structurally right for their platforms — every platform-specific
 * pin names the build and the index that serve that platform. What the indexes actually hold is
 * checked online by `npm run locks -- --check` (scripts/provision/lockcheck.mjs); its judging is
 * tested here on index listings copied from PyPI.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkLock, parseWheel, platformFits } from '../../../scripts/provision/lockcheck.mjs';
import { CUDA_BUILDS, LOCK_VARIANTS, cudaBuildFor, lockInstallArgs, lockName, parseLock, renderLock, renderLocks, selectLock } from '../../../scripts/provision/index.mjs';
import { appRoot } from '../paths';

const root = appRoot();
const requirements = readFileSync(join(root, 'python', 'requirements.txt'), 'utf8');
const committed = Object.fromEntries(Object.keys(LOCK_VARIANTS).map((name) => [name, readFileSync(join(root, 'python', 'locks', `${name}.txt`), 'utf8')]));
const pin = (text: string, name: string) => parseLock(text).pins.find((p: { name: string }) => p.name === name)?.version;

describe('choosing a lock', () => {
  it('follows the platform, the GPU and its driver', () => {
    expect(lockName('linux', 'x64', 'cpu')).toBe('linux-cpu');
    expect(lockName('linux', 'x64', 'cuda')).toBe('linux-cuda');
    expect(lockName('linux', 'x64', 'cuda:cu130')).toBe('linux-cuda');
    expect(lockName('linux', 'x64', 'cuda:cu126')).toBe('linux-cuda126');
    expect(lockName('win32', 'x64', 'cuda:cu126')).toBe('windows-cuda126');
    expect(lockName('win32', 'x64', 'cpu')).toBe('windows-cpu');
    expect(lockName('darwin', 'arm64', 'mps')).toBe('macos-arm64');
    expect(lockName('darwin', 'x64', 'cpu')).toBe('macos-x64');
    // CUDA 13.0 needs driver 580 and Turing (7.5) or newer; older cards and drivers get 12.6
    expect(cudaBuildFor('580.65.06', '12.0')).toBe('cu130');
    expect(cudaBuildFor('575.51', '8.6')).toBe('cu126');
    expect(cudaBuildFor('590.1', '6.1')).toBe('cu126');
    expect(cudaBuildFor('470.2', '8.6')).toBeNull();
    expect(Object.keys(CUDA_BUILDS)).toEqual(['cu130', 'cu126']);
    expect(selectLock(join(root, 'python', 'locks'), { platform: 'linux', arch: 'x64', accelerator: 'cpu' }).text).toBe(committed['linux-cpu']);
  });
});

describe('the committed locks', () => {
  it('are in step with python/requirements.txt (`node scripts/locks.mjs`)', () => {
    for (const [name, text] of Object.entries(renderLocks(requirements))) expect(committed[name], `${name}: run node scripts/locks.mjs`).toBe(text);
  });

  it('name, for every platform-specific torch build, the PyTorch index that serves it', () => {
    for (const [name, text] of Object.entries(committed)) {
      const { indexes } = parseLock(text);
      const torch = pin(text, 'torch')!;
      const local = /\+(\w+)$/.exec(torch)?.[1];
      if (name.endsWith('-cpu') && name.startsWith('linux')) expect(local, `${name}: PyPI's Linux torch is the CUDA build`).toBe('cpu');
      if (name.includes('cuda')) expect(local, name).toBe(name.endsWith('126') ? 'cu126' : 'cu130');
      if (local) expect(indexes, name).toContain(`https://download.pytorch.org/whl/${local}`);
      else expect(indexes, name).toEqual(['https://pypi.org/simple']);
      // CUDA 12.8 left with torch 2.12: a pin on it cannot install
      expect(text, name).not.toMatch(/cu128/);
      expect(text, name).toContain('--only-binary :all:');
    }
  });

  it('pin, on Intel Macs, the last releases with x86_64 macOS wheels and leave out what has none', () => {
    const lock = committed['macos-x64']!;
    expect([pin(lock, 'torch'), pin(lock, 'numba'), pin(lock, 'llvmlite'), pin(lock, 'numpy')]).toEqual(['2.2.2', '0.62.1', '0.45.1', '1.26.4']);
    expect(pin(lock, 'sphn')).toBeUndefined();
    expect(lockInstallArgs(lock)).toEqual(['--no-deps']);
    expect(lockInstallArgs(committed['linux-cuda']!)).toEqual([]); // CUDA torch brings its nvidia-* packages
  });

  it('carry the JavaScript runtime and EJS scripts yt-dlp needs, and no dev-only packages', () => {
    const dev = readFileSync(join(root, 'python', 'requirements-dev.txt'), 'utf8');
    const devOnly = parseLock(dev).pins.map((p: { name: string }) => p.name);
    expect(devOnly).toContain('pytest');
    for (const [name, text] of Object.entries(committed)) {
      expect(pin(text, 'deno'), name).toMatch(/^\d+\.\d+\.\d+$/);
      expect(pin(text, 'yt-dlp-ejs'), name).toMatch(/^\d+\.\d+\.\d+$/);
      for (const pkg of devOnly) expect(pin(text, pkg), `${name} must not install ${pkg}`).toBeUndefined();
    }
  });
});

describe('checking a lock against its index (lockcheck)', () => {
  // the numba and llvmlite files PyPI lists (cp311), and a py3-none-any package
  const listing: Record<string, string[]> = {
    numba: [
      'numba-0.62.1-cp311-cp311-macosx_10_15_x86_64.whl',
      'numba-0.62.1-cp311-cp311-macosx_11_0_arm64.whl',
      'numba-0.62.1-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl',
      'numba-0.62.1-cp311-cp311-win_amd64.whl',
      'numba-0.68.1-cp311-cp311-macosx_12_0_arm64.whl',
      'numba-0.68.1-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl',
      'numba-0.68.1-cp311-cp311-win_amd64.whl',
      'numba-0.68.1.tar.gz',
    ],
    llvmlite: ['llvmlite-0.45.1-cp311-cp311-macosx_10_15_x86_64.whl', 'llvmlite-0.50.0-cp311-cp311-macosx_12_0_arm64.whl', 'llvmlite-0.50.0-cp311-cp311-win_amd64.whl'],
    'yt-dlp-ejs': ['yt_dlp_ejs-0.8.0-py3-none-any.whl', 'yt_dlp_ejs-0.8.0.tar.gz'],
  };
  const fakeIndex = (async (url: string) => {
    const name = /simple\/([^/]+)\/$/.exec(url)![1]!;
    const files = listing[name];
    if (!files) return new Response('', { status: 404 });
    return new Response(JSON.stringify({ files: files.map((filename) => ({ filename })) }), { headers: { 'content-type': 'application/vnd.pypi.simple.v1+json' } });
  }) as typeof fetch;
  const lock = (numba: string, llvmlite: string) => `numba==${numba}\nllvmlite==${llvmlite}\nyt-dlp-ejs==0.8.0\n`;

  it('fails the old Intel Mac pins (numba 0.68.1 has no x86_64 macOS wheel; pip would build from source)', async () => {
    const result = await checkLock('macos-x64', lock('0.68.1', '0.50.0'), { fetchImpl: fakeIndex });
    expect(result.errors).toEqual([expect.stringMatching(/^numba==0\.68\.1: no wheel for macos x86_64/), expect.stringMatching(/^llvmlite==0\.50\.0: no wheel for macos x86_64/)]);
  });

  it('passes the new ones and says which file serves each platform-specific pin', async () => {
    const result = await checkLock('macos-x64', lock('0.62.1', '0.45.1'), { fetchImpl: fakeIndex });
    expect(result.errors).toEqual([]);
    expect(result.verified).toEqual([
      'numba==0.62.1 for macos x86_64 (macOS 10.15+): numba-0.62.1-cp311-cp311-macosx_10_15_x86_64.whl',
      'llvmlite==0.45.1 for macos x86_64 (macOS 10.15+): llvmlite-0.45.1-cp311-cp311-macosx_10_15_x86_64.whl',
    ]);
  });

  it('reports a torch build only an unreachable index serves as not verified, never as passed', async () => {
    const offline = (async (url: string) => (url.includes('pytorch.org') ? Promise.reject(new TypeError('fetch failed')) : fakeIndex(url))) as typeof fetch;
    const result = await checkLock('linux-cpu', renderLock('linux-cpu', 'torch==2.13.0\nyt-dlp-ejs==0.8.0\n').replace(/^#.*\n/gm, ''), { fetchImpl: offline });
    expect(result.unreachable).toEqual([expect.stringMatching(/^https:\/\/download\.pytorch\.org\/whl\/cpu: fetch failed/)]);
    expect(result.notVerified).toEqual([expect.stringMatching(/^torch==2\.13\.0\+cpu/)]);
    expect(result.errors).toEqual([]);
  });

  it('matches wheel platform tags to targets', () => {
    const mac = { os: 'macos', arch: 'arm64', macos: '14.0' };
    expect(platformFits('macosx_14_0_arm64', mac)).toBe(true);
    expect(platformFits('macosx_15_0_arm64', mac)).toBe(false);
    expect(platformFits('macosx_10_9_universal2', mac)).toBe(true);
    expect(platformFits('manylinux_2_28_x86_64', { os: 'linux', arch: 'x86_64' })).toBe(true);
    expect(platformFits('manylinux_2_28_aarch64', { os: 'linux', arch: 'x86_64' })).toBe(false);
    expect(platformFits('win_amd64', { os: 'windows', arch: 'amd64' })).toBe(true);
    expect(parseWheel('torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl')).toMatchObject({ name: 'torch', version: '2.13.0+cpu', platforms: ['manylinux_2_28_x86_64'] });
    expect(parseWheel('torch-2.13.0.tar.gz')).toBeNull();
  });
});
