import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where the engine keeps secrets (the user's Spotify client secret): never in the settings table,
 * job rows, logs or diagnostics. Injected by the host: the Electron host passes an
 * `encryptedSecretStore` over Electron's safeStorage (the OS credential store: Keychain, DPAPI,
 * libsecret/kwallet); the CLI and `sfa serve` use a `fileSecretStore` readable only by the user.
 */
export type SecretName = 'spotify.clientSecret' | 'cluster.token';

export interface SecretStore {
  /** `os`: encrypted with a key the OS credential store keeps; `file`: a file only the user can read. */
  readonly kind: 'os' | 'file';
  get(name: SecretName): string | null;
  set(name: SecretName, value: string | null): void;
}

function writePrivate(file: string, data: string | Buffer): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, data, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

function mapStore(kind: SecretStore['kind'], load: () => Record<string, string>, save: (all: Record<string, string>) => void): SecretStore {
  return {
    kind,
    get: (name) => load()[name] ?? null,
    set(name, value) {
      const all = load();
      if (value === null) delete all[name];
      else all[name] = value;
      save(all);
    },
  };
}

/** Plain JSON in a file with mode 0600 (hosts without an OS credential store: the CLI, `sfa serve`). */
export function fileSecretStore(file: string): SecretStore {
  return mapStore(
    'file',
    () => (existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>) : {}),
    (all) => (Object.keys(all).length ? writePrivate(file, `${JSON.stringify(all)}\n`) : rmSync(file, { force: true })),
  );
}

/** What Electron's safeStorage offers (the engine never imports electron: the host passes this in). */
export interface SecretCipher {
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
}

/** The secrets as one blob encrypted by `cipher` (Electron safeStorage: the key lives in the OS credential store). */
export function encryptedSecretStore(file: string, cipher: SecretCipher): SecretStore {
  return mapStore(
    'os',
    () => (existsSync(file) ? (JSON.parse(cipher.decryptString(readFileSync(file))) as Record<string, string>) : {}),
    (all) => (Object.keys(all).length ? writePrivate(file, cipher.encryptString(JSON.stringify(all))) : rmSync(file, { force: true })),
  );
}

const NAMES: SecretName[] = ['spotify.clientSecret', 'cluster.token'];

/**
 * The secret store for a data folder: encrypted with `cipher` (the desktop app's OS credential
 * store) when there is one, else the private file. Secrets a CLI left in the file move into the
 * encrypted store (and out of the file) when the desktop app opens the folder.
 */
export function secretStoreFor(home: string, cipher: SecretCipher | null): SecretStore {
  const file = fileSecretStore(join(home, 'secrets.json'));
  if (!cipher) return file;
  const os = encryptedSecretStore(join(home, 'secrets.bin'), cipher);
  for (const name of NAMES) {
    const value = file.get(name);
    if (value === null) continue;
    os.set(name, value);
    file.set(name, null);
  }
  return os;
}
