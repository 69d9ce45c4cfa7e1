import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/**
 * Starts `sfa serve` on a fresh temp home and hands `{url, token}` to the tests through
 * SFA_E2E_URL / SFA_E2E_TOKEN (workers inherit this process's environment). The returned
 * function is the teardown: it stops the server and removes the home.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  const root = process.cwd();
  for (const built of ['out/main/cli.js', 'out/renderer/index.html']) {
    if (!existsSync(join(root, built))) throw new Error(`${built} is missing: run \`npm run build\` before the e2e tests.`);
  }
  const home = mkdtempSync(join(tmpdir(), 'sfa-e2e-'));
  const child = spawn(process.execPath, ['bin/sfa.mjs', '--home', home, 'serve', '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    // dsp: the built-in separator, so separation needs no model download.
    env: { ...process.env, SFA_LOG: 'warn', SFA_DEFAULT_MODEL: process.env.SFA_DEFAULT_MODEL ?? 'dsp' },
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));

  const first = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sfa serve printed nothing in 30 s. stderr:\n${stderr}`)), 30_000);
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sfa serve exited with ${code} before printing its URL. stderr:\n${stderr}`));
    });
  });
  const { url, token } = JSON.parse(first) as { url: string; token: string };
  process.env.SFA_E2E_URL = url;
  process.env.SFA_E2E_TOKEN = token;
  process.env.SFA_E2E_HOME = home;

  return async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(home, { recursive: true, force: true });
  };
}
