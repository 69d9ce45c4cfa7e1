/**
 * The models the app knows how to get: the official Demucs weights and the built-in DSP separator.
 *
 * The data lives in python/sfa_sidecar/separation/catalog.json, the one catalogue the sidecar reads
 * too (bundled into the engine at build time, shipped beside the sidecar). Its file lists and bag
 * definitions are copied from the installed demucs package (`demucs/remote/files.txt` and
 * `demucs/remote/<name>.yaml`, read by `demucs.pretrained`); `catalog.test.ts` compares them with
 * it when the Python environment is present. A weight file is named `<sig>-<sha256 prefix>.th`:
 * `sig` is the training signature the bag yaml lists, the prefix is the first 8 hex digits of the
 * file's sha256 (demucs' `LocalRepo` checks it again when it loads the file).
 */
import data from '../../../python/sfa_sidecar/separation/catalog.json' with { type: 'json' };

/** Where demucs itself downloads from (`demucs.pretrained.ROOT_URL`). */
export const DEMUCS_ROOT_URL: string = data.rootUrl;

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

function weightFile(path: string): WeightFile {
  const m = /^(?:[a-z_]+\/)([0-9a-f]{8})-([0-9a-f]{8})\.th$/.exec(path);
  if (!m) throw new Error(`catalog.json: bad weight path ${path}`);
  return { sig: m[1]!, sha256: m[2]!, file: path.slice(path.lastIndexOf('/') + 1), path };
}

export const CATALOG: readonly CatalogEntry[] = data.models.map((m) => {
  if (m.kind !== 'demucs' && m.kind !== 'dsp') throw new Error(`catalog.json: ${m.name} has unknown kind ${m.kind}`);
  const files = m.files.map(weightFile);
  const yaml = m.kind === 'dsp' ? '' : `models: [${files.map((f) => `'${f.sig}'`).join(', ')}]\n${m.yamlExtra}`;
  return { name: m.name, kind: m.kind, stems: m.stems, sizeMb: m.sizeMb, quality: m.quality, files, yaml };
});

const WEIGHTS = new Map(CATALOG.flatMap((m) => m.files.map((f) => [f.sig, f] as const)));

export function catalogEntry(name: string): CatalogEntry | undefined {
  return CATALOG.find((m) => m.name === name);
}

/** The file's download URL under a root (the official one unless a mirror is configured). */
export function fileUrl(file: WeightFile, root: string = DEMUCS_ROOT_URL): string {
  return (root.endsWith('/') ? root : `${root}/`) + file.path;
}

/** The catalogue weight file with this signature, if any. */
export function weightBySig(sig: string): WeightFile | undefined {
  return WEIGHTS.get(sig);
}
