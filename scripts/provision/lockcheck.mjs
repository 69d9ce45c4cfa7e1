/**
 * Do the locks install? Asks the indexes each lock names (PyPI's JSON simple API, PyTorch's HTML
 * index) for the files of every pin, and checks that each pin has a wheel for each of the lock's
 * platforms (locks.mjs TARGETS) — no source build on users' machines. A package with wheels for
 * other platforms but none for this one is an error (numba 0.68 on an Intel Mac); one published
 * only as an sdist is reported (pip builds it; fine only for pure Python). An index that cannot
 * be reached is reported as NOT VERIFIED, never as passed.
 *
 * `resolveLock` goes further where the network allows: pip's own resolver, `pip install
 * --dry-run --report` with `--platform`/`--python-version 3.11 --only-binary=:all:` (downloads
 * every wheel's metadata, whole wheels where an index has no PEP 658 metadata: minutes, GBs).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCK_VARIANTS, parseLock } from './locks.mjs';

const normalise = (name) => name.toLowerCase().replace(/[-_.]+/g, '-');

/** A wheel file name's parts, or null for an sdist. */
export function parseWheel(filename) {
  const match = /^(.+?)-([^-]+)(?:-\d[^-]*)?-([^-]+)-([^-]+)-([^-]+)\.whl$/.exec(filename);
  if (!match) return null;
  return { name: normalise(match[1]), version: match[2], python: match[3].split('.'), abi: match[4].split('.'), platforms: match[5].split('.') };
}

const versionAtMost = (have, limit) => {
  const [a, b] = have.split(/[._]/).map(Number);
  const [x, y] = limit.split('.').map(Number);
  return a < x || (a === x && (b ?? 0) <= (y ?? 0));
};

/** Does this wheel platform tag install on the target (os, arch, minimum macOS)? */
export function platformFits(tag, target) {
  if (tag === 'any') return true;
  if (target.os === 'linux') {
    const m = /^(manylinux(?:1|2010|2014|_\d+_\d+)|linux)_(\w+)$/.exec(tag);
    return !!m && m[2] === target.arch;
  }
  if (target.os === 'windows') return tag === `win_${target.arch}`;
  const m = /^macosx_(\d+)_(\d+)_(\w+)$/.exec(tag);
  if (!m) return false;
  const arches = target.arch === 'x86_64' ? ['x86_64', 'intel', 'universal', 'universal2'] : ['arm64', 'universal2'];
  return arches.includes(m[3]) && versionAtMost(`${m[1]}.${m[2]}`, target.macos ?? '99.0');
}

/** Does the wheel run on CPython 3.11? */
export function pythonFits(wheel) {
  const py = wheel.python.some((t) => t === 'cp311' || t === 'py3' || t === 'py311' || (t.startsWith('cp3') && wheel.abi.includes('abi3') && Number(t.slice(3)) <= 11));
  const abi = wheel.abi.some((t) => t === 'cp311' || t === 'abi3' || t === 'none');
  return py && abi;
}

/** The file names an index lists for a package: PyPI's JSON API, or a PEP 503 HTML page (PyTorch). */
async function listFiles(index, name, fetchImpl) {
  const url = `${index}/${name}/`;
  const response = await fetchImpl(url, { headers: { accept: 'application/vnd.pypi.simple.v1+json, text/html;q=0.5' }, signal: AbortSignal.timeout(60_000) });
  if (response.status === 404) return [];
  if (!response.ok) throw new Error(`HTTP ${response.status} for ${url}`);
  const body = await response.text();
  if ((response.headers.get('content-type') ?? '').includes('json')) return JSON.parse(body).files.filter((f) => !f.yanked).map((f) => f.filename);
  return [...body.matchAll(/<a [^>]*>([^<]+)<\/a>/g)].map((m) => decodeURIComponent(m[1].trim()));
}

/**
 * Checks one lock against its indexes. Returns `{ name, verified, errors, sdistOnly, notVerified, unreachable }`:
 * `verified` lists `pkg==version: wheel-file` for the platform-specific pins (what was checked).
 */
export async function checkLock(name, text, { fetchImpl = globalThis.fetch, concurrency = 8 } = {}) {
  const variant = LOCK_VARIANTS[name];
  const { indexes, pins } = parseLock(text);
  const unreachable = new Map();
  const files = new Map();
  const queue = [...pins];
  const worker = async () => {
    for (let pin = queue.shift(); pin; pin = queue.shift()) {
      const found = [];
      for (const index of indexes) {
        if (unreachable.has(index)) continue;
        try {
          found.push(...(await listFiles(index, pin.name, fetchImpl)));
        } catch (error) {
          unreachable.set(index, `${error.message}${error.cause ? ` (${error.cause.code ?? error.cause.message})` : ''}`);
        }
      }
      files.set(pin.name, found);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const errors = [];
  const verified = [];
  const sdistOnly = [];
  const notVerified = [];
  for (const pin of pins) {
    const ofVersion = (files.get(pin.name) ?? []).filter((f) => {
      const wheel = parseWheel(f);
      return wheel ? wheel.name === pin.name && wheel.version === pin.version : f.startsWith(`${pin.name.replaceAll('-', '_')}-${pin.version}.`) || normalise(f).startsWith(`${pin.name}-${pin.version}.`);
    });
    const wheels = ofVersion.map((f) => ({ f, w: parseWheel(f) })).filter((x) => x.w && pythonFits(x.w));
    if (!ofVersion.length) {
      // a pin that only an unreachable index could serve (torch+cpu) is not verified, not wrong
      if (pin.version.includes('+') && unreachable.size) {
        notVerified.push(`${pin.name}==${pin.version} (a local build only ${[...unreachable.keys()].join(', ')} serves)`);
        continue;
      }
      errors.push(`${pin.name}==${pin.version}: no such release on ${indexes.join(', ')}`);
      continue;
    }
    if (!wheels.length) {
      sdistOnly.push(`${pin.name}==${pin.version}`);
      continue;
    }
    const universal = wheels.some((x) => x.w.platforms.includes('any'));
    for (const target of variant.targets) {
      const fit = wheels.find((x) => x.w.platforms.some((p) => platformFits(p, target)));
      const where = `${target.os} ${target.arch}${target.macos ? ` (macOS ${target.macos}+)` : ''}`;
      if (!fit) errors.push(`${pin.name}==${pin.version}: no wheel for ${where} (has ${wheels.map((x) => x.w.platforms.join('.')).join(', ')})`);
      else if (!universal) verified.push(`${pin.name}==${pin.version} for ${where}: ${fit.f}`);
    }
  }
  return { name, verified, errors, sdistOnly, notVerified, unreachable: [...unreachable].map(([index, why]) => `${index}: ${why}`) };
}

/** pip's resolver over a whole lock for one target (network, slow): `{ ok, output }`. */
export function resolveLock(python, lockFile, target) {
  const platform = target.os === 'linux' ? `manylinux_2_28_${target.arch}` : target.os === 'windows' ? `win_${target.arch}` : `macosx_${target.macos.replace('.', '_')}_${target.arch}`;
  const dir = mkdtempSync(join(tmpdir(), 'sfa-resolve-'));
  const report = join(dir, 'report.json');
  const args = ['-m', 'pip', 'install', '--isolated', '--dry-run', '--ignore-installed', '--only-binary=:all:', '--platform', platform, '--python-version', '3.11', '--implementation', 'cp', '--target', join(dir, 't'), '--report', report, '-r', lockFile];
  const result = spawnSync(python, args, { encoding: 'utf8', timeout: 3_600_000 });
  let installs = 0;
  try {
    installs = JSON.parse(readFileSync(report, 'utf8')).install.length;
  } catch {
    // no report: pip failed before resolving
  }
  rmSync(dir, { recursive: true, force: true });
  return { ok: result.status === 0, platform, installs, output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-8).join('\n') };
}
