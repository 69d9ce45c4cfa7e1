/**
 * The models the app knows how to get: the official Demucs weights and the built-in DSP separator.
 *
 * The file lists, URLs and bag definitions are copied from the installed demucs 4.1.0 package
 * (`demucs/remote/files.txt` and `demucs/remote/<name>.yaml`, read by `demucs.pretrained`); keep
 * them in step when demucs is upgraded (`catalog.test.ts` compares this table with the installed
 * package when the Python environment is present). A weight file is named `<sig>-<sha256 prefix>.th`:
 * `sig` is the training signature the bag yaml lists, the prefix is the first 8 hex digits of the
 * file's sha256 (demucs' `LocalRepo` checks it again when it loads the file).
 * Sizes are approximate (the published checkpoints, all files of a bag together); quality notes
 * are those of the sidecar's catalogue (`python/sfa_sidecar/separation/models.py`).
 */

/** Where demucs itself downloads from (`demucs.pretrained.ROOT_URL`). */
export const DEMUCS_ROOT_URL = 'https://dl.fbaipublicfiles.com/demucs/';

const FOUR = ['drums', 'bass', 'other', 'vocals'];
const SIX = ['drums', 'bass', 'other', 'vocals', 'guitar', 'piano'];

export interface WeightFile {
  /** Training signature, the name the bag yaml lists. */
  sig: string;
  /** First 8 hex digits of the file's sha256. */
  sha256: string;
  /** `<sig>-<sha256>.th`, the file name both upstream and in the store. */
  file: string;
  /** Path under the root URL, e.g. `hybrid_transformer/955717e8-8726e21a.th`. */
  path: string;
}

export interface CatalogEntry {
  name: string;
  kind: 'demucs' | 'dsp';
  stems: string[];
  /** Approximate download size in MB (0: nothing to download). */
  sizeMb: number;
  quality: string;
  files: WeightFile[];
  /** The bag definition demucs expects as `<name>.yaml` (verbatim from demucs/remote). */
  yaml: string;
}

// demucs/remote/files.txt: `root:` lines set the folder of the files below them.
const MDX = 'mdx_final/';
const HT = 'hybrid_transformer/';
const FILES: Record<string, string> = {
  '0d19c1c6-0f06f20e.th': MDX, '5d2d6c55-db83574e.th': MDX, '7d865c68-3d5dd56b.th': MDX, '7ecf8ec1-70f50cc9.th': MDX,
  'a1d90b5c-ae9d2452.th': MDX, 'c511e2ab-fe698775.th': MDX, 'cfa93e08-61801ae1.th': MDX, 'e51eebcc-c1b80bdd.th': MDX,
  '6b9c2ca1-3fd82607.th': MDX, 'b72baf4e-8778635e.th': MDX, '42e558d4-196e0e1b.th': MDX, '305bc58f-18378783.th': MDX,
  '14fc6a69-a89dd0ee.th': MDX, '464b36d7-e5a9386e.th': MDX, '7fd6ef75-a905dd85.th': MDX, '83fc094f-4a16d450.th': MDX,
  '955717e8-8726e21a.th': HT, 'f7e0c4bc-ba3fe64a.th': HT, 'd12395a8-e57c48e6.th': HT, '92cfc3b6-ef3bcb9c.th': HT,
  '04573f0d-f3cf25b2.th': HT, '75fc33f5-1941ce65.th': HT, '5c90dfd2-34c22ccb.th': HT,
};

function weight(sig: string): WeightFile {
  const file = Object.keys(FILES).find((f) => f.startsWith(`${sig}-`));
  if (!file) throw new Error(`catalogue: no file for signature ${sig}`);
  return { sig, sha256: file.slice(sig.length + 1, -'.th'.length), file, path: FILES[file] + file };
}

const MDX_WEIGHTS = 'weights: [\n  [1., 1., 0., 0.],\n  [0., 1., 0., 0.],\n  [1., 0., 1., 1.],\n  [1., 0., 1., 1.],\n]\n';

function demucs(name: string, stems: string[], sizeMb: number, sigs: string[], extra: string, quality: string): CatalogEntry {
  const yaml = `models: [${sigs.map((s) => `'${s}'`).join(', ')}]\n${extra}`;
  return { name, kind: 'demucs', stems, sizeMb, quality, files: sigs.map(weight), yaml };
}

export const CATALOG: readonly CatalogEntry[] = [
  demucs('htdemucs', FOUR, 80, ['955717e8'], '',
    'Hybrid Transformer Demucs v4, the default: best quality per second (~9.0 dB SDR on MUSDB-HQ)'),
  demucs('htdemucs_ft', FOUR, 320, ['f7e0c4bc', 'd12395a8', '92cfc3b6', '04573f0d'],
    'weights: [\n  [1., 0., 0., 0.],\n  [0., 1., 0., 0.],\n  [0., 0., 1., 0.],\n  [0., 0., 0., 1.],\n]\n',
    'htdemucs fine-tuned per stem: slightly better (~9.2 dB SDR), 4x slower'),
  demucs('htdemucs_6s', SIX, 55, ['5c90dfd2'], '',
    '6 stems (adds guitar, piano): guitar is usable, piano is weak and bleeds'),
  demucs('hdemucs_mmi', FOUR, 85, ['75fc33f5'], 'segment: 44\n',
    'Hybrid Demucs v3 retrained on MUSDB + 800 songs (~7.7 dB SDR)'),
  demucs('mdx', FOUR, 330, ['0d19c1c6', '7ecf8ec1', 'c511e2ab', '7d865c68'], `${MDX_WEIGHTS}segment: 44\n`,
    'Demucs v3 MDX-2021 challenge bag, trained on MUSDB-HQ only (~7.3 dB SDR)'),
  demucs('mdx_extra', FOUR, 330, ['e51eebcc', 'a1d90b5c', '5d2d6c55', 'cfa93e08'], 'segment: 44\n',
    'MDX bag trained with extra data (~7.9 dB SDR), 4x slower than htdemucs'),
  demucs('mdx_q', FOUR, 100, ['6b9c2ca1', 'b72baf4e', '42e558d4', '305bc58f'], `${MDX_WEIGHTS}segment: 44\n`,
    'quantized mdx: smaller download, slightly lower quality (needs the diffq package)'),
  demucs('mdx_extra_q', FOUR, 100, ['83fc094f', '464b36d7', '14fc6a69', '7fd6ef75'], 'segment: 44\n',
    'quantized mdx_extra: smaller download, slightly lower quality (needs the diffq package)'),
  {
    name: 'dsp', kind: 'dsp', stems: FOUR, sizeMb: 0, files: [], yaml: '',
    quality: 'NO neural network: HPSS + stereo-centre masks, much lower quality than Demucs (drums OK, vocals weak); works offline, nothing to download',
  },
];

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((m) => m.name === name);
}

/** The file's download URL under a root (the official one unless a mirror is configured). */
export function fileUrl(file: WeightFile, root: string = DEMUCS_ROOT_URL): string {
  return (root.endsWith('/') ? root : `${root}/`) + file.path;
}

/** The catalogue weight file with this signature, if any. */
export function weightBySig(sig: string): WeightFile | undefined {
  const file = Object.keys(FILES).find((f) => f.startsWith(`${sig}-`));
  return file ? weight(sig) : undefined;
}
