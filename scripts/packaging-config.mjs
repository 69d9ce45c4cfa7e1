/**
 * Checks of electron-builder.yml that no build on this machine exercises: what the macOS, Linux
 * and Windows sections must hold for the installers to work on users' machines (see
 * docs/PACKAGING.md). Used by `npm run dist:dir` and by a unit test; each check is `{ ok, what }`.
 * Also: which Python runtimes (`<platform>-<arch>`) a build needs (scripts/dist.mjs fetches them).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const MIME = /^[a-z]+\/[a-z0-9.+-]+$/;

const targetsOf = (config, section) => (config[section]?.target ?? []).map((t) => (typeof t === 'string' ? { target: t, arch: undefined } : t));

/** The `<platform>-<arch>` runtimes a build for `platform` (node's names) needs, from the config or `--x64`/`--arm64`. */
export function runtimeTargets(config, platform, argv = []) {
  const section = { darwin: 'mac', win32: 'win', linux: 'linux' }[platform];
  const forced = ['x64', 'arm64'].filter((a) => argv.includes(`--${a}`));
  const arches = forced.length ? forced : [...new Set(targetsOf(config, section).flatMap((t) => t.arch ?? ['x64']))];
  return (arches.length ? arches : ['x64']).map((arch) => `${platform}-${arch}`);
}

/** Every check of the configuration (parsed electron-builder.yml) against the repository at `root`. */
export function checkBuilderConfig(config, root) {
  const checks = [];
  const check = (ok, what) => checks.push({ ok: !!ok, what });
  const plist = (file) => (file && existsSync(join(root, file)) ? readFileSync(join(root, file), 'utf8') : '');

  // Linux: the desktop entry's MimeType and no broken shared-mime-info file
  const linuxTypes = config.linux?.mimeTypes ?? [];
  check(linuxTypes.length > 0 && linuxTypes.every((t) => MIME.test(t)), `linux.mimeTypes are valid MIME types (${linuxTypes.join(' ') || 'none'})`);
  for (const assoc of config.fileAssociations ?? []) {
    // electron-builder writes `<glob pattern="*.${ext}">` with `mimeType` verbatim: only one type and one extension work
    if (assoc.mimeType) check(MIME.test(assoc.mimeType) && !Array.isArray(assoc.ext), `file association ${assoc.name}: mimeType "${assoc.mimeType}" with ext ${assoc.ext} makes a valid shared-mime-info entry`);
  }
  check(targetsOf(config, 'linux').some((t) => t.target === 'deb'), 'linux: a deb (its AppArmor profile lets the sandbox run on Ubuntu 24.04+)');

  // macOS: signed (ad-hoc at least), hardened runtime with the entitlements Python and numba need
  const mac = config.mac ?? {};
  check(mac.identity !== null, 'mac: signing not disabled (identity: null leaves an invalid signature: "damaged" on Apple silicon)');
  check(mac.identity === '-', 'mac.identity "-": ad-hoc signature without a Developer ID (release builds override with CSC_NAME)');
  check(mac.hardenedRuntime === true, 'mac.hardenedRuntime (needed for notarization)');
  const main = plist(mac.entitlements);
  check(main.includes('<key>com.apple.security.cs.allow-jit</key>'), `mac.entitlements (${mac.entitlements}) allow JIT for V8`);
  // an ad-hoc signature has no Team ID: library validation would refuse Electron's own frameworks
  if (mac.identity === '-') check(main.includes('<key>com.apple.security.cs.disable-library-validation</key>'), `mac.entitlements (${mac.entitlements}) disable library validation (ad-hoc signature, no Team ID)`);
  const inherit = plist(mac.entitlementsInherit);
  for (const key of ['com.apple.security.cs.allow-jit', 'com.apple.security.cs.allow-unsigned-executable-memory', 'com.apple.security.cs.disable-library-validation']) {
    check(inherit.includes(`<key>${key}</key>`), `mac.entitlementsInherit (${mac.entitlementsInherit}) grants ${key} to the bundled Python`);
  }
  const dmg = targetsOf(config, 'mac').find((t) => t.target === 'dmg');
  check(!!dmg && ['arm64', 'x64'].every((a) => dmg.arch?.includes(a)), 'mac target: dmg for arm64 and x64');
  check(runtimeTargets(config, 'darwin').join(' ') === 'darwin-arm64 darwin-x64', 'mac: a Python runtime is fetched for each dmg architecture (darwin-arm64, darwin-x64)');
  const runtimeResource = (config.extraResources ?? []).find((r) => r.to === 'python-runtime');
  check(runtimeResource?.from === 'dist/python-runtime/${platform}-${arch}', 'extraResources: the runtime of the build\'s own platform and arch');
  return checks;
}
