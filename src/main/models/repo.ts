/**
 * The demucs local-repo layout the store keeps in `<home>/models/` (what `get_model(name,
 * repo=DIR)` reads): weight files `<sig>.th` or `<sig>-<sha256 prefix>.th`, and `<name>.yaml`
 * files whose `models:` list names signatures. demucs refuses a folder holding two files with the
 * same signature, so every write here replaces by signature.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** `955717e8-8726e21a.th` -> {sig: 955717e8, sha256: 8726e21a}; `abcd1234.th` -> {sig, sha256: null}. */
export function parseWeightName(file: string): { sig: string; sha256: string | null } | null {
  const name = basename(file);
  if (!name.endsWith('.th')) return null;
  const stem = name.slice(0, -3);
  if (!stem || stem.startsWith('.')) return null;
  const dash = stem.lastIndexOf('-');
  return dash > 0 ? { sig: stem.slice(0, dash), sha256: stem.slice(dash + 1) } : { sig: stem, sha256: null };
}

/** The signatures a bag yaml lists (`models: ['a', 'b']` or a block list). */
export function yamlSignatures(text: string): string[] | null {
  const flow = /^models:\s*\[([^\]]*)\]/m.exec(text);
  if (flow) return flow[1]!.split(',').map((s) => s.trim().replace(/^['"]|['"]$/g, '')).filter(Boolean);
  const block = /^models:\s*\n((?:[ \t]*-[^\n]*\n?)+)/m.exec(text);
  if (block) return block[1]!.split('\n').map((l) => l.replace(/^\s*-\s*/, '').trim().replace(/^['"]|['"]$/g, '')).filter(Boolean);
  return null;
}

export interface RepoScan {
  /** signature -> file name */
  weights: Map<string, string>;
  /** model name -> signatures its yaml lists (null: unreadable yaml) */
  bags: Map<string, string[] | null>;
}

export function scanRepo(dir: string): RepoScan {
  const weights = new Map<string, string>();
  const bags = new Map<string, string[] | null>();
  if (!existsSync(dir)) return { weights, bags };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('.')) continue;
    const w = parseWeightName(entry.name);
    if (w) weights.set(w.sig, entry.name);
    else if (entry.name.endsWith('.yaml')) {
      let sigs: string[] | null = null;
      try {
        sigs = yamlSignatures(readFileSync(join(dir, entry.name), 'utf8'));
      } catch {
        sigs = null;
      }
      bags.set(entry.name.slice(0, -'.yaml'.length), sigs);
    }
  }
  return { weights, bags };
}

/** A model is complete when its yaml is readable and every signature it lists has a weight file. */
export function isComplete(scan: RepoScan, name: string): boolean {
  const sigs = scan.bags.get(name);
  return Boolean(sigs && sigs.length && sigs.every((s) => scan.weights.has(s)));
}

/** Write a file atomically: a temporary sibling, then a rename. */
export function writeAtomic(path: string, content: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

export function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/**
 * Whether a file looks like a `torch.save` checkpoint: the zip format torch uses since 1.6 (a zip
 * holding `<archive>/data.pkl`) or the legacy pickle format (pickle protocol 2+ header). This is
 * the cheap check; loading it in the sidecar is the real one.
 */
export function looksLikeTorchCheckpoint(path: string): boolean {
  const size = fileSize(path);
  if (size < 64) return false;
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    if (head[0] === 0x80 && head[1]! >= 2 && head[1]! <= 5) return true; // legacy pickle
    if (head.readUInt32LE(0) !== 0x04034b50) return false; // zip local file header "PK\3\4"
    const tailLength = Math.min(size, 1 << 20);
    const tail = Buffer.alloc(tailLength);
    readSync(fd, tail, 0, tailLength, size - tailLength);
    return tail.includes('data.pkl');
  } finally {
    closeSync(fd);
  }
}
