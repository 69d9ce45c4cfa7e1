/**
 * The catalogue (python/sfa_sidecar/separation/catalog.json, read by the engine and the sidecar:
 * python/tests/test_catalog_json.py is the sidecar's side) is self-consistent and matches the
 * demucs package installed in python/.venv.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../test/fixtures';
import { CATALOG, DEMUCS_ROOT_URL, fileUrl } from './catalog';
import { yamlSignatures } from './repo';

function demucsRemote(): string | null {
  const lib = join(repoRoot, 'python', '.venv', 'lib');
  if (!existsSync(lib)) return null;
  for (const py of readdirSync(lib)) {
    const dir = join(lib, py, 'site-packages', 'demucs', 'remote');
    if (existsSync(join(dir, 'files.txt'))) return dir;
  }
  return null;
}

describe('model catalogue', () => {
  it('is self-consistent: names, files, checksums, yaml, URLs', () => {
    const names = CATALOG.map((m) => m.name);
    expect(names).toEqual(['htdemucs', 'htdemucs_ft', 'htdemucs_6s', 'hdemucs_mmi', 'mdx', 'mdx_extra', 'mdx_q', 'mdx_extra_q', 'dsp']);
    for (const m of CATALOG) {
      expect(m.stems.length).toBeGreaterThanOrEqual(4);
      expect(m.quality.length).toBeGreaterThan(10);
      if (m.kind === 'dsp') {
        expect(m.files).toEqual([]);
        expect(m.sizeMb).toBe(0);
        continue;
      }
      expect(m.sizeMb).toBeGreaterThan(0);
      expect(yamlSignatures(m.yaml)).toEqual(m.files.map((f) => f.sig));
      for (const f of m.files) {
        expect(f.file).toBe(`${f.sig}-${f.sha256}.th`);
        expect(f.sha256).toMatch(/^[0-9a-f]{8}$/);
        expect(fileUrl(f)).toMatch(new RegExp(`^${DEMUCS_ROOT_URL.replace(/\./g, '\\.')}(mdx_final|hybrid_transformer)/${f.file}$`));
      }
    }
    expect(CATALOG.find((m) => m.name === 'htdemucs_6s')!.stems).toContain('guitar');
  });

  it('matches demucs/remote (files.txt and the bag yamls) of the installed demucs package', () => {
    const remote = demucsRemote();
    if (!remote) return console.log('skipped: no demucs in python/.venv to compare with (the self-consistency test still runs)');
    const urls = new Map<string, string>();
    let folder = '';
    for (const raw of readFileSync(join(remote, 'files.txt'), 'utf8').split('\n')) {
      const line = raw.trim();
      if (!line || line.startsWith('#')) continue;
      if (line.startsWith('root:')) folder = line.slice(5).trim();
      else urls.set(line, DEMUCS_ROOT_URL + folder + line);
    }
    for (const m of CATALOG.filter((x) => x.kind === 'demucs')) {
      const upstream = readFileSync(join(remote, `${m.name}.yaml`), 'utf8');
      expect(m.yaml.trim(), m.name).toBe(upstream.trim());
      for (const f of m.files) expect(fileUrl(f), f.file).toBe(urls.get(f.file));
    }
  });
});
