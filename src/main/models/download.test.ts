/** Downloads against a weight-file server on 127.0.0.1: progress, checksum, size, resume, offline. */
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ModelProgress } from '../../shared/contract';
import { tempDir } from '../../test/fixtures';
import { ModelStore } from './store';
import { closedUrl, serveFiles, testEntry } from './test/helpers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const BYTES = randomBytes(600_000);
const ENTRY = testEntry('testmodel', 'abcd1234', BYTES);
const FILE = ENTRY.files[0]!;

async function setup(files: Record<string, Buffer> = { [FILE.path]: BYTES }, extra: Partial<ConstructorParameters<typeof ModelStore>[0]> = {}) {
  const t = tempDir('sfa-models-');
  cleanups.push(t.cleanup);
  const server = await serveFiles(files);
  cleanups.push(() => server.close());
  const progress: ModelProgress[] = [];
  const store = new ModelStore({
    dir: join(t.dir, 'models'), catalog: [ENTRY], baseUrl: server.url, torchHubDir: null, hfHubDir: null, retryDelayMs: 10, stallTimeoutMs: 5000,
    onProgress: (p) => progress.push(p), ...extra,
  });
  return { store, server, progress, dir: join(t.dir, 'models') };
}

function expectNothingInstalled(dir: string) {
  const files = existsSync(dir) ? readdirSync(dir) : [];
  expect(files.filter((f) => f.endsWith('.th') || f.endsWith('.yaml'))).toEqual([]);
}

describe('model store: download', () => {
  it('downloads, reports progress, verifies and installs in the demucs layout (yaml last)', async () => {
    const { store, server, progress, dir } = await setup();
    const own: ModelProgress[] = [];
    expect(store.isInstalled('testmodel')).toBe(false);
    const info = await store.download('testmodel', { onProgress: (p) => own.push(p) });
    expect(info).toMatchObject({ name: 'testmodel', installed: true, bytes: BYTES.length, partialBytes: 0 });
    expect(readFileSync(join(dir, FILE.file)).equals(BYTES)).toBe(true);
    expect(readFileSync(join(dir, 'testmodel.yaml'), 'utf8')).toBe("models: ['abcd1234']\n");
    expect(existsSync(join(dir, '.downloads', `${FILE.file}.part`))).toBe(false);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.headers.range).toBeUndefined();
    // progress: monotonic, ends at 100% with the full size known
    expect(progress.length).toBeGreaterThan(0);
    expect(own).toEqual(progress);
    const percents = progress.map((p) => p.percent);
    expect([...percents].sort((a, b) => a - b)).toEqual(percents);
    expect(progress.at(-1)).toEqual({ name: 'testmodel', percent: 100, bytes: BYTES.length, total: BYTES.length });
    // a second download is a no-op
    await store.download('testmodel');
    expect(server.requests).toHaveLength(1);
  });

  it('resumes an interrupted transfer with a Range request and verifies the whole file', async () => {
    const { store, server, dir } = await setup();
    server.cutAfter = { bytes: 250_000, times: 1 };
    await store.download('testmodel');
    expect(server.requests.map((r) => r.status)).toEqual([200, 206]);
    const range = String(server.requests[1]!.headers.range);
    const from = Number(/^bytes=(\d+)-$/.exec(range)?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(250_000);
    expect(readFileSync(join(dir, FILE.file)).equals(BYTES)).toBe(true);
    expect(store.isInstalled('testmodel')).toBe(true);
  });

  it('keeps the partial file when a download fails, and the next download resumes from it', async () => {
    const { store, server, dir } = await setup(undefined, { retries: 0 });
    server.cutAfter = { bytes: 200_000, times: 1 };
    await expect(store.download('testmodel')).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED' });
    expectNothingInstalled(dir);
    const partial = store.info('testmodel')!.partialBytes;
    expect(partial).toBeGreaterThan(0);
    await store.download('testmodel');
    expect(server.requests[1]!.headers.range).toBe(`bytes=${partial}-`);
    expect(readFileSync(join(dir, FILE.file)).equals(BYTES)).toBe(true);
  });

  it('rejects a file whose checksum does not match, installing nothing', async () => {
    const corrupt = Buffer.from(BYTES);
    corrupt[1234] = (corrupt[1234]! + 1) % 256;
    const { store, dir } = await setup({ [FILE.path]: corrupt });
    await expect(store.download('testmodel')).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED', message: expect.stringContaining('checksum mismatch') });
    expectNothingInstalled(dir);
    expect(store.info('testmodel')).toMatchObject({ installed: false, partialBytes: 0 });
  });

  it('does not retry an HTTP 404', async () => {
    const { store, server } = await setup({});
    await expect(store.download('testmodel')).rejects.toMatchObject({ code: 'MODEL_NOT_INSTALLED', message: expect.stringContaining('HTTP 404') });
    expect(server.requests).toHaveLength(1);
  });

  it('offline: a clear MODEL_NOT_INSTALLED error that says what to do instead', async () => {
    const { store, dir } = await setup(undefined, { baseUrl: await closedUrl(), retries: 1 });
    const error = await store.download('testmodel').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_NOT_INSTALLED' });
    const message = (error as Error).message;
    expect(message).toMatch(/^model testmodel is not installed and could not be downloaded \(.+\); import it with `sfa models import <file-or-folder>` or use --model dsp$/);
    expect(message).toMatch(/ECONNREFUSED|fetch failed/);
    expectNothingInstalled(dir);
  });

  it('joins concurrent downloads of one model into one transfer', async () => {
    const { store, server } = await setup();
    await Promise.all([store.download('testmodel'), store.download('testmodel'), store.ensure('testmodel')]);
    expect(server.requests).toHaveLength(1);
  });

  it('ensure() leaves alone dsp, unknown names and installed models', async () => {
    const { store, server } = await setup();
    expect(await store.ensure('dsp')).toBe(false);
    expect(await store.ensure('my-own-model')).toBe(false);
    expect(await store.ensure('testmodel')).toBe(true);
    expect(await store.ensure('testmodel')).toBe(false);
    expect(server.requests).toHaveLength(1);
  });
});

describe('model store: cancel and caches', () => {
  it('a cancelled caller stops waiting; the transfer stops when nobody waits; the next download resumes', async () => {
    const { store, server } = await setup(undefined, { retries: 0 });
    server.cutAfter = null;
    const controller = new AbortController();
    const pending = store.download('testmodel', { signal: controller.signal, onProgress: (p) => p.bytes > 0 && controller.abort() });
    await expect(pending).rejects.toMatchObject({ code: 'CANCELLED' });
    await new Promise((r) => setTimeout(r, 50));
    await store.download('testmodel');
    expect(store.isInstalled('testmodel')).toBe(true);
  });

  it('reuses weights demucs downloaded into its torch hub cache, and defers to its Hugging Face cache', async () => {
    const t = tempDir('sfa-hub-');
    cleanups.push(t.cleanup);
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(join(t.dir, 'checkpoints'));
    writeFileSync(join(t.dir, 'checkpoints', FILE.file), BYTES);
    const { store, server } = await setup(undefined, { torchHubDir: join(t.dir, 'checkpoints') });
    await store.download('testmodel');
    expect(server.requests).toHaveLength(0);
    expect(store.isInstalled('testmodel')).toBe(true);
    mkdirSync(join(t.dir, 'hf', 'models--adefossez--Demucs-testmodel2', 'snapshots', 'abc'), { recursive: true });
    const hf = new ModelStore({ dir: join(t.dir, 'm2'), catalog: [{ ...ENTRY, name: 'testmodel2' }], baseUrl: 'http://127.0.0.1:9/', torchHubDir: null, hfHubDir: join(t.dir, 'hf') });
    expect(await hf.ensure('testmodel2')).toBe(false);
  });
});
