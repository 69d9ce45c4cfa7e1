/**
 * The model store: separation models in `<home>/models/`, in the demucs local-repo layout, so the
 * sidecar loads them with `repo=<home>/models` and never reaches for the network itself.
 *
 * - `download(name)`: fetch an official model's weight files (resumable, size- and
 *   checksum-verified, see download.ts), rename each into place once verified, write the bag
 *   yaml last: a model is installed exactly when its yaml is there with all its weight files.
 *   Failures become MODEL_NOT_INSTALLED with what to do instead. One download per model at a time
 *   (joined in this process, refused across processes with MODEL_BUSY).
 * - `import(path)`: a `.th` file or a demucs model folder from disk (checked, then loaded once by
 *   the injected `verifyLoad`, the sidecar's `warm` op in the engine).
 * - `list()`, `remove(name)`.
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import type { ModelInfo, ModelProgress } from '../../shared/contract';
import { SfaError } from '../../shared/errors';
import { MODEL_NAME } from '../../shared/patterns';
import { HomeLock } from '../lock';
import type { Logger } from '../log';
import { CATALOG, DEMUCS_ROOT_URL, fileUrl, type CatalogEntry, type WeightFile } from './catalog';
import { DownloadError, downloadFile, sha256File, type FetchFn } from './download';
import { fileSize, isComplete, looksLikeTorchCheckpoint, parseWeightName, scanRepo, writeAtomic, yamlSignatures } from './repo';

export interface ModelStoreOptions {
  /** `<home>/models` */
  dir: string;
  /** The downloadable models (default: the official catalogue; tests serve their own). */
  catalog?: readonly CatalogEntry[];
  /** Root URL of the weight files; default `SFA_MODELS_BASE_URL` or the official demucs URL. */
  baseUrl?: string;
  fetch?: FetchFn;
  /** demucs' own download cache, reused before downloading (null: do not look). */
  torchHubDir?: string | null;
  /** The Hugging Face hub cache, where demucs 4.1 keeps models it fetched itself (null: do not look). */
  hfHubDir?: string | null;
  retries?: number;
  retryDelayMs?: number;
  stallTimeoutMs?: number;
  /** Every (throttled) progress report of every download: the engine's `models:progress`. */
  onProgress?: (p: ModelProgress) => void;
  /** Load an installed model once to prove it works (throws with the reason when it does not). */
  verifyLoad?: (name: string, repo: string) => Promise<void>;
  logger?: Logger;
}

export interface DownloadCallOptions {
  signal?: AbortSignal;
  onProgress?: (p: ModelProgress) => void;
}


const PROGRESS_INTERVAL_MS = 100;

/** The error a separation or a download reports when a model cannot be had. */
export function modelNotInstalled(name: string, reason: string): SfaError {
  return new SfaError(
    'MODEL_NOT_INSTALLED',
    `model ${name} is not installed and could not be downloaded (${reason}); import it with \`sfa models import <file-or-folder>\` or use --model dsp`,
  );
}

function defaultTorchHub(): string {
  const cache = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return join(process.env.TORCH_HOME ?? join(cache, 'torch'), 'hub', 'checkpoints');
}

function defaultHfHub(): string {
  if (process.env.HF_HUB_CACHE) return process.env.HF_HUB_CACHE;
  return join(process.env.HF_HOME ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface'), 'hub');
}

interface Inflight {
  promise: Promise<void>;
  listeners: Set<(p: ModelProgress) => void>;
  callers: number;
  controller: AbortController;
}

export class ModelStore {
  readonly dir: string;
  private readonly partsDir: string;
  private readonly inflight = new Map<string, Inflight>();
  readonly catalog: readonly CatalogEntry[];

  constructor(private readonly options: ModelStoreOptions) {
    this.dir = resolve(options.dir);
    this.partsDir = join(this.dir, '.downloads');
    this.catalog = options.catalog ?? CATALOG;
  }

  entry(name: string): CatalogEntry | undefined {
    return this.catalog.find((m) => m.name === name);
  }

  private get baseUrl(): string {
    return this.options.baseUrl ?? process.env.SFA_MODELS_BASE_URL ?? DEMUCS_ROOT_URL;
  }

  /** True when the model can be used without a download (dsp, or complete in the store). */
  isInstalled(name: string): boolean {
    if (this.entry(name)?.kind === 'dsp') return true;
    return isComplete(scanRepo(this.dir), name);
  }

  list(): ModelInfo[] {
    const scan = scanRepo(this.dir);
    const sizeOf = (file: string | undefined) => (file ? fileSize(join(this.dir, file)) : 0);
    const out: ModelInfo[] = this.catalog.map((m) => {
      const installed = m.kind === 'dsp' || isComplete(scan, m.name);
      return {
        name: m.name,
        kind: m.kind,
        source: 'catalogue',
        stems: m.stems,
        sizeMb: m.sizeMb,
        quality: m.quality,
        files: m.files.map((f) => f.file),
        installed,
        bytes: installed ? m.files.reduce((n, f) => n + sizeOf(scan.weights.get(f.sig)), 0) : 0,
        partialBytes: m.files.reduce((n, f) => n + fileSize(join(this.partsDir, `${f.file}.part`)), 0),
        urls: m.files.map((f) => fileUrl(f, this.baseUrl)),
      };
    });
    const referenced = new Set([...scan.bags.values()].flatMap((s) => s ?? []));
    const local = [...scan.bags.keys()].filter((n) => !this.entry(n));
    // A weight file no yaml lists is a model too (demucs loads a bare signature by name).
    for (const sig of scan.weights.keys()) if (!referenced.has(sig) && !scan.bags.has(sig) && !this.entry(sig)) local.push(sig);
    for (const name of local.sort()) {
      const sigs = scan.bags.get(name) ?? [name];
      out.push({
        name,
        kind: 'demucs',
        source: 'local',
        stems: null,
        sizeMb: null,
        quality: null,
        files: sigs.map((s) => scan.weights.get(s) ?? `${s}.th (missing)`),
        installed: scan.bags.has(name) ? isComplete(scan, name) : true,
        bytes: sigs.reduce((n, s) => n + sizeOf(scan.weights.get(s)), 0),
        partialBytes: 0,
        urls: [],
      });
    }
    return out;
  }

  info(name: string): ModelInfo | undefined {
    return this.list().find((m) => m.name === name);
  }

  /**
   * Make a catalogue model available before a separation: a no-op for dsp, for models the
   * catalogue does not know (the sidecar resolves those) and for installed ones; else download.
   * Resolves true when it downloaded.
   */
  async ensure(name: string, call: DownloadCallOptions = {}): Promise<boolean> {
    const entry = this.entry(name);
    if (!entry || entry.kind !== 'demucs' || this.isInstalled(name)) return false;
    // demucs fetched it into its own Hugging Face cache before: the sidecar loads it from there.
    if (this.inHfCache(name)) return false;
    await this.download(name, call);
    return true;
  }

  private inHfCache(name: string): boolean {
    const hub = this.options.hfHubDir === undefined ? defaultHfHub() : this.options.hfHubDir;
    if (!hub) return false;
    // the repository names demucs.hf uses (as python/sfa_sidecar/separation/models.py hf_repo_name)
    const repo = name === 'htdemucs' ? 'HTDemucs' : name.startsWith('htdemucs_') ? `HTDemucs-${name.slice('htdemucs_'.length)}` : `Demucs-${name}`;
    const snapshots = join(hub, `models--adefossez--${repo}`, 'snapshots');
    try {
      return readdirSync(snapshots).length > 0;
    } catch {
      return false;
    }
  }

  /** Download a catalogue model (joins a download of it already running in this process). */
  async download(name: string, call: DownloadCallOptions = {}): Promise<ModelInfo> {
    const entry = this.entry(name);
    if (!entry) throw new SfaError('NOT_FOUND', `Unknown model "${name}". Models: ${this.catalog.map((m) => m.name).join(', ')}.`);
    if (entry.kind === 'demucs' && !this.isInstalled(name)) {
      let run = this.inflight.get(name);
      if (!run) {
        const controller = new AbortController();
        const listeners = new Set<(p: ModelProgress) => void>();
        const created: Inflight = { listeners, callers: 0, controller, promise: Promise.resolve() };
        created.promise = this.downloadNow(entry, controller.signal, (p) => {
          this.options.onProgress?.(p);
          for (const l of listeners) l(p);
        }).finally(() => this.inflight.delete(name));
        created.promise.catch(() => undefined); // every caller may have left (cancelled): not an unhandled rejection
        this.inflight.set(name, created);
        run = created;
      }
      await this.join(run, call);
    }
    return this.info(name)!;
  }

  private async join(run: Inflight, call: DownloadCallOptions): Promise<void> {
    run.callers++;
    if (call.onProgress) run.listeners.add(call.onProgress);
    let left = false;
    let unsubscribe: (() => void) | undefined;
    try {
      const signal = call.signal;
      if (!signal) return await run.promise;
      await Promise.race([
        run.promise,
        new Promise<never>((_, reject) => {
          const onAbort = () => {
            // this caller stops waiting; the transfer stops only when nobody waits for it any more
            left = true;
            if (--run.callers === 0) run.controller.abort();
            reject(new SfaError('CANCELLED', 'The download was cancelled.'));
          };
          if (signal.aborted) return onAbort();
          signal.addEventListener('abort', onAbort, { once: true });
          unsubscribe = () => signal.removeEventListener('abort', onAbort);
        }),
      ]);
    } finally {
      unsubscribe?.();
      if (!left) run.callers--;
      if (call.onProgress) run.listeners.delete(call.onProgress);
    }
  }

  private async downloadNow(entry: CatalogEntry, signal: AbortSignal, report: (p: ModelProgress) => void): Promise<void> {
    mkdirSync(this.partsDir, { recursive: true });
    let lock: HomeLock;
    try {
      lock = HomeLock.acquire(join(this.partsDir, `${entry.name}.lock`));
    } catch (error) {
      if ((error as SfaError).code === 'HOME_LOCKED') {
        throw new SfaError('MODEL_BUSY', `model ${entry.name} is being downloaded by another Sound Forge Alchemy process; try again when it has finished`);
      }
      throw error;
    }
    try {
      const perFile = (entry.sizeMb * 1e6) / Math.max(1, entry.files.length);
      const done = new Map<string, { bytes: number; total: number | null }>();
      let last = 0;
      const emit = (force: boolean) => {
        const now = Date.now();
        if (!force && now - last < PROGRESS_INTERVAL_MS) return;
        last = now;
        const states = entry.files.map((f) => done.get(f.file));
        const bytes = states.reduce((n, s) => n + (s?.bytes ?? 0), 0);
        const known = states.every((s) => s?.total !== null && s?.total !== undefined);
        const total = known ? states.reduce((n, s) => n + (s!.total ?? 0), 0) : null;
        // a file whose size the server did not say counts against the catalogue's estimate
        const fraction = states.reduce((n, s) => n + (s ? (s.total ? s.bytes / s.total : Math.min(0.99, s.bytes / perFile)) : 0), 0) / entry.files.length;
        report({ name: entry.name, percent: Math.min(100, Math.round(fraction * 1000) / 10), bytes, total });
      };
      for (const w of entry.files) {
        const present = scanRepo(this.dir).weights.get(w.sig);
        if (present) {
          const size = fileSize(join(this.dir, present));
          done.set(w.file, { bytes: size, total: size });
          continue;
        }
        done.set(w.file, { bytes: 0, total: null });
        await this.fetchWeight(entry, w, signal, (bytes, total) => {
          done.set(w.file, { bytes, total });
          emit(false);
        });
        const size = fileSize(join(this.dir, w.file));
        done.set(w.file, { bytes: size, total: size });
        emit(true);
      }
      // The yaml last: from here on the model counts as installed.
      writeAtomic(join(this.dir, `${entry.name}.yaml`), entry.yaml);
      emit(true);
      this.options.logger?.info(`models: installed ${entry.name} in ${this.dir}`);
    } finally {
      lock.release();
      rmSync(join(this.partsDir, `${entry.name}.lock`), { force: true });
    }
  }

  private async fetchWeight(entry: CatalogEntry, w: WeightFile, signal: AbortSignal, onBytes: (bytes: number, total: number | null) => void): Promise<void> {
    const part = join(this.partsDir, `${w.file}.part`);
    const hub = this.options.torchHubDir === undefined ? defaultTorchHub() : this.options.torchHubDir;
    if (hub && existsSync(join(hub, w.file))) {
      // demucs downloaded it before (torch hub cache): reuse it if it verifies.
      copyFileSync(join(hub, w.file), part);
      if ((await sha256File(part)).startsWith(w.sha256)) return this.placeWeight(part, w.file);
      rmSync(part, { force: true });
    }
    try {
      await downloadFile({
        url: fileUrl(w, this.baseUrl),
        part,
        sha256: w.sha256,
        fetch: this.options.fetch,
        signal,
        onBytes,
        retries: this.options.retries,
        retryDelayMs: this.options.retryDelayMs,
        stallTimeoutMs: this.options.stallTimeoutMs,
      });
    } catch (error) {
      if (error instanceof SfaError) throw error; // CANCELLED
      const reason = error instanceof DownloadError ? `${w.file}: ${error.message}` : String(error);
      this.options.logger?.warn(`models: download of ${entry.name} failed: ${reason}`);
      throw modelNotInstalled(entry.name, reason);
    }
    this.placeWeight(part, w.file);
  }

  /** Move a verified weight file into the store, replacing any other file of the same signature. */
  private placeWeight(source: string, file: string): void {
    const sig = parseWeightName(file)!.sig;
    for (const other of readdirSync(this.dir)) {
      if (other !== file && parseWeightName(other)?.sig === sig) rmSync(join(this.dir, other), { force: true });
    }
    renameSync(source, join(this.dir, file));
  }

  /** Import a `.th` file or a demucs model folder; resolves with the model names installed. */
  async import(path: string, options: { name?: string } = {}): Promise<string[]> {
    const source = resolve(path);
    if (!existsSync(source)) throw new SfaError('FILE_NOT_FOUND', `No such file or folder: ${source}`);
    if (options.name !== undefined && !MODEL_NAME.test(options.name)) throw new SfaError('BAD_REQUEST', `Invalid model name "${options.name}".`);
    const plan = statSync(source).isDirectory() ? this.planFolder(source, options.name) : this.planFile(source, options.name);
    for (const w of plan.weights) {
      if (!looksLikeTorchCheckpoint(w.src)) throw new SfaError('MODEL_INVALID', `${w.src} is not a PyTorch checkpoint (torch.save file).`);
      const parsed = parseWeightName(w.file)!;
      if (parsed.sha256 && /^[0-9a-f]+$/i.test(parsed.sha256)) {
        const digest = await sha256File(w.src);
        if (!digest.startsWith(parsed.sha256.toLowerCase())) {
          throw new SfaError('MODEL_INVALID', `${basename(w.src)}: its sha256 starts ${digest.slice(0, parsed.sha256.length)}, not ${parsed.sha256} as its name says (a damaged or renamed file; demucs would refuse it).`);
        }
      }
    }
    for (const y of plan.yamls) {
      if (y.name === 'dsp') throw new SfaError('BAD_REQUEST', '"dsp" is the built-in separator; give the model another name (--name).');
    }

    mkdirSync(this.dir, { recursive: true });
    const before = scanRepo(this.dir);
    const staging = join(this.dir, `.import-${process.pid}-${Date.now()}`);
    mkdirSync(staging);
    const added: string[] = [];
    const written: string[] = [];
    try {
      for (const w of plan.weights) copyFileSync(w.src, join(staging, w.file));
      for (const w of plan.weights) {
        if (before.weights.get(parseWeightName(w.file)!.sig) !== w.file) added.push(w.file);
        this.placeWeight(join(staging, w.file), w.file);
      }
      for (const y of plan.yamls) {
        writeAtomic(join(this.dir, `${y.name}.yaml`), y.text);
        written.push(y.name);
      }
      written.push(...this.completeBags());
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
    if (this.options.verifyLoad) {
      for (const name of plan.yamls.map((y) => y.name)) {
        try {
          await this.options.verifyLoad(name, this.dir);
        } catch (error) {
          this.rollback(written, added);
          throw new SfaError('MODEL_INVALID', `could not load the imported model ${name}: ${(error as Error).message}`);
        }
      }
    }
    this.options.logger?.info(`models: imported ${written.join(', ')} from ${source}`);
    return [...new Set(written)];
  }

  private rollback(yamls: string[], weights: string[]): void {
    for (const name of yamls) rmSync(join(this.dir, `${name}.yaml`), { force: true });
    const still = new Set([...scanRepo(this.dir).bags.values()].flatMap((s) => s ?? []));
    for (const file of weights) if (!still.has(parseWeightName(file)!.sig)) rmSync(join(this.dir, file), { force: true });
  }

  /** Write the yaml of every catalogue bag whose weight files are all present (imported one by one). */
  private completeBags(): string[] {
    const scan = scanRepo(this.dir);
    const out: string[] = [];
    for (const m of this.catalog) {
      if (m.kind !== 'demucs' || scan.bags.has(m.name)) continue;
      if (m.files.every((f) => scan.weights.has(f.sig))) {
        writeAtomic(join(this.dir, `${m.name}.yaml`), m.yaml);
        out.push(m.name);
      }
    }
    return out;
  }

  private planFile(src: string, name?: string): { weights: { src: string; file: string }[]; yamls: { name: string; text: string }[] } {
    const parsed = parseWeightName(src);
    if (!parsed) throw new SfaError('BAD_REQUEST', `${src} is not a model: import a .th weight file or a folder of .th files and .yaml bags.`);
    const single = this.catalog.find((m) => m.files.length === 1 && m.files[0]!.sig === parsed.sig);
    const modelName = name ?? single?.name ?? parsed.sig;
    if (!MODEL_NAME.test(modelName)) throw new SfaError('BAD_REQUEST', `"${modelName}" cannot be a model name; pass --name.`);
    const text = single && (name === undefined || name === single.name) ? single.yaml : `models: ['${parsed.sig}']\n`;
    return { weights: [{ src, file: basename(src) }], yamls: [{ name: modelName, text }] };
  }

  private planFolder(dir: string, name?: string): { weights: { src: string; file: string }[]; yamls: { name: string; text: string }[] } {
    const scan = scanRepo(dir);
    if (scan.weights.size === 0) throw new SfaError('BAD_REQUEST', `${dir} holds no .th weight files.`);
    if (scan.bags.size === 0) {
      if (scan.weights.size > 1 && name) throw new SfaError('BAD_REQUEST', `${dir} holds several weight files and no .yaml: --name applies to one model only.`);
      const plans = [...scan.weights.values()].map((file) => this.planFile(join(dir, file), name));
      return { weights: plans.flatMap((p) => p.weights), yamls: plans.flatMap((p) => p.yamls) };
    }
    if (scan.bags.size > 1 && name) throw new SfaError('BAD_REQUEST', `${dir} holds several models: --name applies to one model only.`);
    const weights = new Map<string, string>();
    const yamls: { name: string; text: string }[] = [];
    for (const [bag, sigs] of scan.bags) {
      const text = readFileSync(join(dir, `${bag}.yaml`), 'utf8');
      if (!sigs || sigs.length === 0 || !yamlSignatures(text)) throw new SfaError('MODEL_INVALID', `${bag}.yaml has no readable "models:" list of signatures.`);
      const missing = sigs.filter((s) => !scan.weights.has(s));
      if (missing.length) throw new SfaError('MODEL_INVALID', `${bag}.yaml lists signatures without .th files in ${dir}: ${missing.join(', ')}.`);
      for (const s of sigs) weights.set(s, scan.weights.get(s)!);
      const modelName = name ?? bag;
      if (!MODEL_NAME.test(modelName)) throw new SfaError('BAD_REQUEST', `"${modelName}" cannot be a model name; pass --name.`);
      yamls.push({ name: modelName, text });
    }
    return { weights: [...weights.values()].map((file) => ({ src: join(dir, file), file })), yamls };
  }

  /** Remove an installed model: its yaml first, then the weight files no other model uses. */
  remove(name: string): { removed: string; freedBytes: number } {
    if (this.entry(name)?.kind === 'dsp') throw new SfaError('BAD_REQUEST', 'dsp is built in; there is nothing to remove.');
    const scan = scanRepo(this.dir);
    const sigs = scan.bags.has(name) ? scan.bags.get(name) ?? [] : scan.weights.has(name) ? [name] : null;
    const entry = this.entry(name);
    if (sigs === null) {
      const partial = entry ? entry.files.filter((f) => existsSync(join(this.partsDir, `${f.file}.part`))) : [];
      if (!partial.length) throw new SfaError('NOT_FOUND', `model ${name} is not installed.`);
    }
    rmSync(join(this.dir, `${name}.yaml`), { force: true });
    const used = new Set([...scanRepo(this.dir).bags.values()].flatMap((s) => s ?? []));
    let freed = 0;
    for (const sig of sigs ?? []) {
      const file = scan.weights.get(sig);
      if (!file || used.has(sig)) continue;
      freed += fileSize(join(this.dir, file));
      rmSync(join(this.dir, file), { force: true });
    }
    for (const f of entry?.files ?? []) {
      const part = join(this.partsDir, `${f.file}.part`);
      freed += fileSize(part);
      rmSync(part, { force: true });
    }
    this.options.logger?.info(`models: removed ${name}`);
    return { removed: name, freedBytes: freed };
  }
}
