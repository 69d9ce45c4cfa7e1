/** Test helpers: a tiny demucs model built by the sidecar package, and a local weight-file server. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pythonEnvironment } from '../../sidecar/environment';
import type { CatalogEntry } from '../catalog';

/** `python -m sfa_sidecar.separation.tiny_model OUTDIR --name NAME`; returns the .th file's facts. */
export function buildTinyModel(outDir: string, name = 'tiny'): { dir: string; th: string; sig: string; bytes: Buffer } {
  const env = pythonEnvironment();
  execFileSync(env.python, ['-m', 'sfa_sidecar.separation.tiny_model', outDir, '--name', name], { cwd: env.packageRoot, stdio: 'pipe' });
  const file = readdirSync(outDir).find((f) => f.endsWith('.th'))!;
  return { dir: outDir, th: join(outDir, file), sig: file.slice(0, -3), bytes: readFileSync(join(outDir, file)) };
}

/** A catalogue entry for bytes the test serves (its sha256 prefix is the real one). */
export function testEntry(name: string, sig: string, bytes: Buffer): CatalogEntry {
  const sha = createHash('sha256').update(bytes).digest('hex').slice(0, 8);
  const file = `${sig}-${sha}.th`;
  return { name, kind: 'demucs', stems: ['drums', 'bass', 'other', 'vocals'], sizeMb: bytes.length / 1e6, quality: 'test', yaml: `models: ['${sig}']\n`, files: [{ sig, sha256: sha, file, path: `hybrid_transformer/${file}` }] };
}

export interface Served {
  url: string;
  requests: { path: string; headers: IncomingHttpHeaders; status: number }[];
  /** Cut the connection after this many bytes of the next N responses. */
  cutAfter: { bytes: number; times: number } | null;
  close(): Promise<void>;
}

/** Serves `files` (path under the root -> bytes) on 127.0.0.1 with Range support. */
export async function serveFiles(files: Record<string, Buffer>): Promise<Served> {
  const served: Served = { url: '', requests: [], cutAfter: null, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').slice(1));
    const body = files[path];
    const record = { path, headers: req.headers, status: 200 };
    served.requests.push(record);
    if (!body) {
      record.status = 404;
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(String(req.headers.range ?? ''));
    if (range) {
      start = Number(range[1]);
      if (start >= body.length) {
        record.status = 416;
        res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }).end();
        return;
      }
      record.status = 206;
      res.writeHead(206, { 'Content-Length': body.length - start, 'Content-Range': `bytes ${start}-${body.length - 1}/${body.length}`, 'Accept-Ranges': 'bytes' });
    } else res.writeHead(200, { 'Content-Length': body.length, 'Accept-Ranges': 'bytes' });
    const cut = served.cutAfter;
    if (cut && cut.times > 0) {
      cut.times--;
      res.write(body.subarray(start, start + cut.bytes), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  served.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  served.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return served;
}

/** A loopback URL where nothing listens (connection refused at once). */
export async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/`;
}
