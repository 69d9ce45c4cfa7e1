/**
 * Per-platform lock files for the Python sidecar environment, all generated from the one pinned
 * `python/requirements.txt` (ours, frozen with pip on Python 3.11). Only the lines that differ per
 * platform change (torch's build and the index it comes from; macOS Intel also numpy, numba and
 * llvmlite); everything else is byte-for-byte the same pins. `node scripts/locks.mjs` writes
 * `python/locks/*.txt`; `--check` fails when they are out of step and then asks the indexes
 * whether every pin has a wheel for each lock's platforms (./lockcheck.mjs).
 *
 * Which lock a machine gets: `lockName(platform, arch, accelerator)` below; the accelerator is
 * detected by `detectAccelerator()` in ./index.mjs (`nvidia-smi`: driver and compute capability).
 *
 * Where the pins come from (checked 2026-12 against PyPI's index; PyTorch's own index was not
 * reachable from the machine that wrote this — see docs/PACKAGING.md):
 * - torch 2.13 ships CUDA 12.6 (legacy: Maxwell–Hopper), 13.0 and 13.2 builds on
 *   download.pytorch.org (CUDA 12.8 was dropped in 2.12; pytorch/pytorch RELEASE.md, the 2.13
 *   release announcement googlecolab/colabtools#6053). PyPI's Linux wheel is the CUDA 13.0 build
 *   with its nvidia-* dependencies; the CPU-only Linux build is `+cpu` on the CPU index.
 * - PyTorch's last x86_64 macOS wheels are 2.2.2 (built against numpy 1.x); numba's last are
 *   0.62.1 with llvmlite 0.45.1 (macosx_10_15_x86_64).
 */

export const TORCH_VERSION = '2.13.0';
export const PYTORCH_INDEX = 'https://download.pytorch.org/whl';

/**
 * The CUDA builds of torch 2.13 we offer. cu130 is the default (Turing and newer, including
 * Blackwell / RTX 50, needs an NVIDIA driver >= 580); cu126 serves older GPUs (Maxwell, Pascal,
 * Volta: compute capability < 7.5) and older drivers (>= 525).
 */
export const CUDA_BUILDS = {
  cu130: { minDriver: 580, minCompute: 7.5 },
  cu126: { minDriver: 525, minCompute: 5.0 },
};

/**
 * The wheel platforms a lock must install on (the app's minimum macOS per architecture follows
 * torch). Linux is x86_64 only, like the installers: sphn (demucs 4.1's audio reader) has no
 * aarch64 wheels.
 */
export const TARGETS = {
  linux: [{ os: 'linux', arch: 'x86_64' }],
  windows: [{ os: 'windows', arch: 'amd64' }],
  'macos-arm64': [{ os: 'macos', arch: 'arm64', macos: '14.0' }],
  'macos-x64': [{ os: 'macos', arch: 'x86_64', macos: '10.15' }],
};

const cudaVariant = (os, tag) => ({
  description: `${os === 'linux' ? 'Linux' : 'Windows'}, NVIDIA CUDA ${tag.slice(2, -1)}.${tag.slice(-1)} (torch ${TORCH_VERSION}+${tag} from the PyTorch index)`,
  targets: TARGETS[os],
  prelude: [`--extra-index-url ${PYTORCH_INDEX}/${tag}`],
  replace: { torch: `torch==${TORCH_VERSION}+${tag}` },
});

/**
 * @typedef {{ description: string, targets: {os: string, arch: string, macos?: string}[], prelude?: string[], replace?: Record<string, string>, remove?: string[], noDeps?: boolean, unverified?: string }} LockVariant
 * @type {Record<string, LockVariant>}
 */
export const LOCK_VARIANTS = {
  'linux-cpu': {
    description: `Linux, CPU (torch ${TORCH_VERSION}+cpu from the PyTorch CPU index: PyPI's Linux torch is the multi-GB CUDA build)`,
    targets: TARGETS.linux,
    prelude: [`--extra-index-url ${PYTORCH_INDEX}/cpu`],
    replace: { torch: `torch==${TORCH_VERSION}+cpu` },
  },
  'linux-cuda': cudaVariant('linux', 'cu130'),
  'linux-cuda126': cudaVariant('linux', 'cu126'),
  'windows-cpu': { description: "Windows, CPU (PyPI's Windows torch is the CPU build)", targets: TARGETS.windows, replace: {} },
  'windows-cuda': cudaVariant('windows', 'cu130'),
  'windows-cuda126': cudaVariant('windows', 'cu126'),
  'macos-arm64': { description: "macOS Apple silicon, 14 or later (PyPI's torch wheel includes Metal/MPS)", targets: TARGETS['macos-arm64'], replace: {} },
  'macos-x64': {
    description: 'macOS Intel, 10.15 or later (CPU): the last x86_64 macOS wheels of torch (2.2.2) and numba (0.62.1)',
    targets: TARGETS['macos-x64'],
    replace: { torch: 'torch==2.2.2', numpy: 'numpy==1.26.4', numba: 'numba==0.62.1', llvmlite: 'llvmlite==0.45.1' },
    // demucs 4.1 requires sphn >= 0.1.12, which has no x86_64 macOS wheel (a Rust build); only
    // demucs.api imports it, which the sidecar does not use. The lock is complete, so it is
    // installed exactly as written (--no-deps) and sphn left out.
    // OpenVINO 2026 has no x86_64 macOS wheel either: there the CPU path is PyTorch's (the sidecar
    // finds no openvino to import; python/sfa_sidecar/separation/openvino_core.py).
    remove: ['sphn', 'openvino', 'openvino-telemetry'],
    noDeps: true,
    unverified: 'Wheels checked on PyPI for macosx_10_15_x86_64 (node scripts/locks.mjs --check); not yet installed and run on an Intel Mac.',
  },
};

/** The header line that tells the provisioner to install a lock with `--no-deps` (pip allows no such option in the file). */
export const NO_DEPS_MARKER = '# sfa-install: --no-deps';

/** Extra pip arguments a lock's text asks for. */
export function lockInstallArgs(lockText) {
  return lockText.split('\n').some((l) => l.trim() === NO_DEPS_MARKER) ? ['--no-deps'] : [];
}

/** `cuda` locks by build: the accelerator string detectAccelerator() returns names the build. */
const CUDA_LOCK = { cu130: 'cuda', cu126: 'cuda126' };

/** The lock for a platform (`process.platform`, `process.arch`) and an accelerator (`cpu`, `mps`, `cuda`, `cuda:cu126`). */
export function lockName(platform, arch, accelerator) {
  if (platform === 'darwin') return arch === 'arm64' ? 'macos-arm64' : 'macos-x64';
  const os = platform === 'win32' ? 'windows' : 'linux';
  if (!String(accelerator).startsWith('cuda')) return `${os}-cpu`;
  const build = String(accelerator).split(':')[1] ?? 'cu130';
  return `${os}-${CUDA_LOCK[build] ?? 'cuda'}`;
}

/** The CUDA build for a driver version ("580.65.06") and compute capability ("8.6"); null when none fits. */
export function cudaBuildFor(driverVersion, computeCapability) {
  const driver = Number.parseFloat(driverVersion);
  const compute = Number.parseFloat(computeCapability);
  for (const [build, needs] of Object.entries(CUDA_BUILDS)) {
    if (driver >= needs.minDriver && (!Number.isFinite(compute) || compute >= needs.minCompute)) return build;
  }
  return null;
}

/** The package's normalised name (PEP 503) from a requirement line. */
export const packageOf = (line) => line.split(/[=<>!~ ;[]/)[0].trim().toLowerCase().replace(/[-_.]+/g, '-');

/** The text of one lock file from the requirements text. */
export function renderLock(name, requirementsText) {
  const variant = LOCK_VARIANTS[name];
  if (!variant) throw new Error(`unknown lock ${name}`);
  const lines = requirementsText.split('\n');
  const body = lines.filter((l) => !l.startsWith('#'));
  const seen = new Set();
  const replace = Object.fromEntries(Object.entries(variant.replace ?? {}).map(([k, v]) => [packageOf(k), v]));
  const remove = new Set((variant.remove ?? []).map(packageOf));
  const replaced = body.flatMap((line) => {
    const pkg = packageOf(line);
    if (line.trim() && remove.has(pkg)) {
      seen.add(pkg);
      return [];
    }
    if (line.trim() && pkg in replace) {
      seen.add(pkg);
      return [replace[pkg]];
    }
    return [line];
  });
  for (const pkg of [...Object.keys(replace), ...remove]) if (!seen.has(pkg)) throw new Error(`${name}: ${pkg} is not pinned in requirements.txt`);
  const header = [
    `# Sound Forge Alchemy sidecar lock: ${name} — ${variant.description}.`,
    '# GENERATED by `node scripts/locks.mjs` from python/requirements.txt: do not edit by hand.',
    ...(variant.unverified ? [`# ${variant.unverified}`] : []),
    ...(variant.noDeps ? [NO_DEPS_MARKER] : []),
    // wheels only: a pin without a wheel for this platform fails clearly instead of compiling on a user's machine
    '--only-binary :all:',
    ...(variant.prelude ?? []),
  ];
  return `${header.join('\n')}\n${replaced.join('\n')}`;
}

/** Every lock: name -> text. */
export function renderLocks(requirementsText) {
  return Object.fromEntries(Object.keys(LOCK_VARIANTS).map((name) => [name, renderLock(name, requirementsText)]));
}

/** A lock's pins `{ name, version }` and the indexes it names (PyPI first). */
export function parseLock(text) {
  const indexes = ['https://pypi.org/simple'];
  const pins = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const index = /^--(?:extra-)?index-url\s+(\S+)/.exec(line);
    if (index) indexes.push(index[1].replace(/\/$/, ''));
    if (!line || line.startsWith('#') || line.startsWith('-')) continue;
    const pin = /^([A-Za-z0-9_.-]+)==(\S+)$/.exec(line);
    if (!pin) throw new Error(`not an exact pin: ${line}`);
    pins.push({ name: packageOf(pin[1]), version: pin[2] });
  }
  return { indexes: [...new Set(indexes)], pins };
}
