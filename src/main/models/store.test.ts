/** Import, list and remove with a tiny demucs model built by the sidecar package (no sidecar process). */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/fixtures';
import { CATALOG } from './catalog';
import { ModelStore } from './store';
import { buildTinyModel } from './test/helpers';

let root: string;
let cleanup: () => void;
let tiny: ReturnType<typeof buildTinyModel>;
let n = 0;

beforeAll(() => {
  ({ dir: root, cleanup } = tempDir('sfa-store-'));
  tiny = buildTinyModel(join(root, 'tiny-repo'), 'tiny');
}, 60_000);
afterAll(() => cleanup());

function store(): ModelStore {
  return new ModelStore({ dir: join(root, `models-${++n}`), torchHubDir: null, hfHubDir: null, baseUrl: 'http://127.0.0.1:9/' });
}

describe('model store: import, list, remove', () => {
  it('imports a demucs model folder ({sig}.th + {name}.yaml) and lists it as installed', async () => {
    const s = store();
    expect(await s.import(tiny.dir)).toEqual(['tiny']);
    expect(readdirSync(s.dir).sort()).toEqual([`${tiny.sig}.th`, 'tiny.yaml']);
    expect(readFileSync(join(s.dir, 'tiny.yaml'), 'utf8')).toBe(readFileSync(join(tiny.dir, 'tiny.yaml'), 'utf8'));
    const list = s.list();
    expect(list.find((m) => m.name === 'tiny')).toMatchObject({ source: 'local', installed: true, bytes: tiny.bytes.length, files: [`${tiny.sig}.th`] });
    expect(list.filter((m) => m.installed).map((m) => m.name).sort()).toEqual(['dsp', 'tiny']);
    // every catalogue model is listed, with its size and official URLs
    for (const m of CATALOG) expect(list.find((x) => x.name === m.name)).toMatchObject({ source: 'catalogue', sizeMb: m.sizeMb });
  });

  it('imports a single .th file under a name, verifying a checksum in its file name', async () => {
    const s = store();
    expect(await s.import(tiny.th, { name: 'mine' })).toEqual(['mine']);
    expect(s.isInstalled('mine')).toBe(true);
    expect(readFileSync(join(s.dir, 'mine.yaml'), 'utf8')).toBe(`models: ['${tiny.sig}']\n`);
    // without a name, the signature is the model's name
    const s2 = store();
    expect(await s2.import(tiny.th)).toEqual([tiny.sig]);
    // `<sig>-<sha256 prefix>.th` (the official naming) is checked against the file
    const named = join(root, `${tiny.sig}-deadbeef.th`);
    copyFileSync(tiny.th, named);
    await expect(store().import(named)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('sha256') });
  });

  it('replaces a weight file of the same signature instead of leaving a duplicate demucs would refuse', async () => {
    const s = store();
    await s.import(tiny.th, { name: 'a' });
    const { createHash } = await import('node:crypto');
    const renamed = join(root, `${tiny.sig}-${createHash('sha256').update(tiny.bytes).digest('hex').slice(0, 8)}.th`);
    copyFileSync(tiny.th, renamed);
    await s.import(renamed, { name: 'b' });
    expect(readdirSync(s.dir).filter((f) => f.endsWith('.th'))).toEqual([renamed.split('/').pop()]);
    expect(s.isInstalled('a') && s.isInstalled('b')).toBe(true);
  });

  it('rejects what is not a model, installing nothing', async () => {
    const s = store();
    const bogus = join(root, 'bogus.th');
    writeFileSync(bogus, Buffer.alloc(4096, 7));
    await expect(s.import(bogus)).rejects.toMatchObject({ code: 'MODEL_INVALID' });
    await expect(s.import(join(root, 'nope.th'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const song = join(root, 'song.mp3');
    writeFileSync(song, 'x');
    await expect(s.import(song)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const broken = join(root, 'broken-repo');
    mkdirSync(broken);
    copyFileSync(tiny.th, join(broken, `${tiny.sig}.th`));
    writeFileSync(join(broken, 'bag.yaml'), `models: ['${tiny.sig}', 'cafef00d']\n`);
    await expect(s.import(broken)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('cafef00d') });
    expect(existsSync(s.dir) ? readdirSync(s.dir).filter((f) => !f.startsWith('.')) : []).toEqual([]);
  });

  it('rolls an import back when the model does not load', async () => {
    const s = new ModelStore({ dir: join(root, `models-${++n}`), torchHubDir: null, hfHubDir: null, verifyLoad: async () => { throw new Error('boom'); } });
    await expect(s.import(tiny.dir)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('boom') });
    expect(readdirSync(s.dir).filter((f) => !f.startsWith('.'))).toEqual([]);
  });

  it('removes a model: its yaml, then the weight files no other model uses', async () => {
    const s = store();
    await s.import(tiny.dir);
    await s.import(tiny.th, { name: 'alias' });
    expect(s.remove('tiny')).toEqual({ removed: 'tiny', freedBytes: 0 }); // alias still uses the weights
    expect(s.isInstalled('alias')).toBe(true);
    expect(s.remove('alias')).toEqual({ removed: 'alias', freedBytes: tiny.bytes.length });
    expect(readdirSync(s.dir).filter((f) => !f.startsWith('.'))).toEqual([]);
    expect(() => s.remove('alias')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => s.remove('dsp')).toThrow(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
