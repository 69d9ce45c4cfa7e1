/**
 * electron-builder.yml as the installers need it on users' machines (scripts/packaging-config.mjs,
 * also run by `npm run dist:dir`): valid Linux MIME types, a deb for AppArmor systems, an ad-hoc
 * signed hardened macOS app whose bundled Python may load pip's libraries and JIT-compile (numba),
 * and a Python runtime fetched for every architecture built, not the build machine's.
 */
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBuilderConfig, runtimeTargets } from '../../../scripts/packaging-config.mjs';
import { appRoot } from '../paths';

const root = appRoot();
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): Record<string, unknown> };
const config = yaml.load(readFileSync(join(root, 'electron-builder.yml'), 'utf8'));

describe('electron-builder.yml', () => {
  it('passes every packaging check', () => {
    const failed = checkBuilderConfig(config, root).filter((c) => !c.ok);
    expect(failed).toEqual([]);
  });

  it('catches what the first configuration got wrong', () => {
    const before = {
      ...config,
      fileAssociations: [{ ext: ['wav', 'flac'], name: 'Audio file', mimeType: 'audio/wav;audio/flac' }],
      linux: { target: ['AppImage', 'deb'] },
      mac: { target: [{ target: 'dmg', arch: ['arm64', 'x64'] }], hardenedRuntime: true },
    };
    const failed = checkBuilderConfig(before, root).filter((c) => !c.ok).map((c) => c.what);
    expect(failed).toEqual([
      expect.stringMatching(/^linux\.mimeTypes are valid/),
      expect.stringMatching(/^file association Audio file: mimeType "audio\/wav;audio\/flac"/),
      expect.stringMatching(/^mac\.identity "-"/),
      expect.stringMatching(/^mac\.entitlements/),
      expect.stringMatching(/allow-jit to the bundled Python/),
      expect.stringMatching(/allow-unsigned-executable-memory to the bundled Python/),
      expect.stringMatching(/disable-library-validation to the bundled Python/),
    ]);
  });

  it('fetches a Python runtime for each architecture a build targets', () => {
    expect(runtimeTargets(config, 'darwin')).toEqual(['darwin-arm64', 'darwin-x64']);
    expect(runtimeTargets(config, 'darwin', ['--mac', '--x64'])).toEqual(['darwin-x64']);
    expect(runtimeTargets(config, 'linux')).toEqual(['linux-x64']);
    expect(runtimeTargets(config, 'win32')).toEqual(['win32-x64']);
  });
});
