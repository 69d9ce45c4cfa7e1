/** `sfa spotify` as a user runs it: the built CLI, the secret on stdin, never echoed back. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../../test/fixtures';

const cli = join(repoRoot, 'bin', 'sfa.mjs');
let dir: string;
let cleanup: () => void;

function sfa(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, '--home', join(dir, 'home'), ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

beforeAll(() => {
  if (!existsSync(join(repoRoot, 'out', 'main', 'cli.js'))) throw new Error('The CLI is not built: run `npm run build` (npm test does it first).');
  ({ dir, cleanup } = tempDir('sfa-cli-spotify-'));
});
afterAll(() => cleanup());

describe('sfa spotify', () => {
  const id = '0123456789abcdef0123456789abcdef';
  const secret = 'fedcba9876543210fedcba9876543210';

  it('stores the client id as a setting and the secret (from stdin) apart, and never prints it', async () => {
    const none = await sfa(['spotify', '--json']);
    expect(JSON.parse(none.stdout)).toEqual({ spotify: { clientId: null, clientSecretStored: false, secretStore: 'file' } });
    const set = await sfa(['spotify', '--client-id', id, '--client-secret-stdin', '--json'], `${secret}\n`);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ spotify: { clientId: id, clientSecretStored: true, secretStore: 'file' } });
    expect(set.stdout + set.stderr).not.toContain(secret);
    const file = join(dir, 'home', 'secrets.json');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ 'spotify.clientSecret': secret });
    if (process.platform !== 'win32') expect(statSync(file).mode & 0o777).toBe(0o600);
    const shown = await sfa(['spotify']);
    expect(shown.stdout).toContain(`your own app, client id ${id}; secret stored in secrets.json`);
    const logs = join(dir, 'home', 'logs', 'cli.log');
    if (existsSync(logs)) expect(readFileSync(logs, 'utf8')).not.toContain(secret);
  }, 120_000);

  it('rejects a malformed secret and a secret without an id; --clear forgets both', async () => {
    const bad = await sfa(['spotify', '--client-id', id, '--client-secret', 'not a secret!'], '');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/Spotify client id or secret/);
    expect((await sfa(['spotify', '--client-secret', secret])).code).toBe(2);
    const cleared = await sfa(['spotify', '--clear', '--json']);
    expect(JSON.parse(cleared.stdout)).toEqual({ spotify: { clientId: null, clientSecretStored: false, secretStore: 'file' } });
    expect(existsSync(join(dir, 'home', 'secrets.json'))).toBe(false);
  }, 120_000);
});
