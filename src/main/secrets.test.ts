/** The secret stores the hosts inject: a private file, or a blob encrypted by the OS credential store (Electron safeStorage). */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../test/fixtures';
import { encryptedSecretStore, fileSecretStore, secretStoreFor, type SecretCipher } from './secrets';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));
const home = () => {
  const t = tempDir('sfa-secrets-');
  cleanups.push(t.cleanup);
  return t.dir;
};
/** A stand-in for safeStorage: reversible, and visibly not plain text. */
const cipher: SecretCipher = {
  encryptString: (plain) => Buffer.from(Buffer.from(plain, 'utf8').toString('base64').split('').reverse().join(''), 'utf8'),
  decryptString: (data) => Buffer.from(data.toString('utf8').split('').reverse().join(''), 'base64').toString('utf8'),
};

describe('secret stores', () => {
  it('keeps a secret in a file only the user can read, and removes the file when nothing is left', () => {
    const dir = home();
    const store = fileSecretStore(join(dir, 'secrets.json'));
    store.set('spotify.clientSecret', 's3cret');
    expect(fileSecretStore(join(dir, 'secrets.json')).get('spotify.clientSecret')).toBe('s3cret');
    if (process.platform !== 'win32') expect(statSync(join(dir, 'secrets.json')).mode & 0o777).toBe(0o600);
    store.set('spotify.clientSecret', null);
    expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
  });

  it('with the OS credential store, encrypts, and moves a secret the CLI left in the file', () => {
    const dir = home();
    fileSecretStore(join(dir, 'secrets.json')).set('spotify.clientSecret', 'from-the-cli');
    const store = secretStoreFor(dir, cipher);
    expect(store.kind).toBe('os');
    expect(store.get('spotify.clientSecret')).toBe('from-the-cli');
    expect(existsSync(join(dir, 'secrets.json'))).toBe(false);
    expect(readFileSync(join(dir, 'secrets.bin'), 'utf8')).not.toContain('from-the-cli');
    expect(encryptedSecretStore(join(dir, 'secrets.bin'), cipher).get('spotify.clientSecret')).toBe('from-the-cli');
    expect(secretStoreFor(dir, null).kind).toBe('file');
  });
});
