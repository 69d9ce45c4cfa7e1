/**
 * A Chromium for the end-to-end tests (Playwright), for `npm install` (scripts/setup.mjs),
 * `npm test` (scripts/test.mjs) and playwright.config.ts: one decision, written once.
 *
 * Order: SFA_CHROMIUM; a system Chromium or Chrome; Playwright's own browser (downloaded with
 * `playwright install chromium` where the internet allows); as root on Debian/Ubuntu, the OS
 * package (`apt-get install chromium`). The choice is recorded in RECORD_FILE so the tests use
 * exactly what setup found. Every effect (files, processes) goes through `io`, so the decisions
 * are tested with a fake one (src/test/browser.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where setup records the browser it chose (ignored by git; recreated by `npm install`). */
export const RECORD_FILE = join(root, 'node_modules', '.cache', 'sfa', 'chromium.json');

/** System browsers, most specific first, per platform. */
export const SYSTEM_CANDIDATES = {
  linux: ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable', '/snap/bin/chromium', '/opt/google/chrome/chrome'],
  darwin: ['/Applications/Chromium.app/Contents/MacOS/Chromium', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'],
  win32: ['C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe', 'C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe'],
};

/** The real effects; tests pass a fake with the same shape. */
export function realIo() {
  const require = createRequire(join(root, 'package.json'));
  return {
    env: process.env,
    platform: process.platform,
    isRoot: typeof process.getuid === 'function' && process.getuid() === 0,
    isExecutable(path) {
      try {
        accessSync(path, process.platform === 'win32' ? constants.F_OK : constants.X_OK);
        return true;
      } catch {
        return false;
      }
    },
    readFile(path) {
      try {
        return readFileSync(path, 'utf8');
      } catch {
        return null;
      }
    },
    writeFile(path, text) {
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(`${path}.tmp`, text);
      renameSync(`${path}.tmp`, path);
    },
    run(cmd, args, options = {}) {
      const r = spawnSync(cmd, args, { stdio: 'inherit', timeout: options.timeoutMs ?? 600_000, env: { ...process.env, ...options.env } });
      return r.error ? 1 : (r.status ?? 1);
    },
    /** Where Playwright keeps (or would download) its own Chromium, or null without playwright-core. */
    playwrightChromium() {
      try {
        return require('playwright-core').chromium.executablePath() || null;
      } catch {
        return null;
      }
    },
    playwrightCli() {
      try {
        return join(dirname(require.resolve('playwright-core/package.json')), 'cli.js');
      } catch {
        return null;
      }
    },
    which(name) {
      const r = spawnSync(process.platform === 'win32' ? 'where' : 'which', [name], { encoding: 'utf8' });
      return r.status === 0 ? r.stdout.split(/\r?\n/)[0] || null : null;
    },
    log: (message) => process.stdout.write(`[setup] ${message}\n`),
  };
}

/** True on Debian, Ubuntu and their derivatives (from /etc/os-release). */
export function isDebianLike(io) {
  const text = io.readFile('/etc/os-release') ?? '';
  const ids = [...text.matchAll(/^(?:ID|ID_LIKE)=("?)([^"\n]*)\1$/gm)].flatMap((m) => m[2].split(/\s+/));
  return ids.some((id) => id === 'debian' || id === 'ubuntu');
}

/** The browser recorded by setup, if it is still there. */
function recorded(io) {
  try {
    const record = JSON.parse(io.readFile(RECORD_FILE) ?? 'null');
    return record && typeof record.executablePath === 'string' && io.isExecutable(record.executablePath) ? record : null;
  } catch {
    return null;
  }
}

function systemBrowser(io) {
  const path = (SYSTEM_CANDIDATES[io.platform] ?? []).find((p) => io.isExecutable(p));
  return path ? { executablePath: path, source: 'system' } : null;
}

function playwrightBrowser(io) {
  const path = io.playwrightChromium();
  return path && io.isExecutable(path) ? { executablePath: path, source: 'playwright' } : null;
}

/**
 * The browser the tests should launch, without installing anything: SFA_CHROMIUM, the recorded
 * choice, a system browser, Playwright's own. Null when there is none.
 */
export function findBrowser(io = realIo()) {
  const explicit = io.env.SFA_CHROMIUM?.trim();
  if (explicit) return io.isExecutable(explicit) ? { executablePath: explicit, source: 'SFA_CHROMIUM' } : null;
  return recorded(io) ?? systemBrowser(io) ?? playwrightBrowser(io);
}

/**
 * Setup's step: find a browser, or get one (Playwright's download, then the OS package as root on
 * Debian/Ubuntu), and record it. Returns the choice, or null after one warning naming the fix.
 */
export function provisionBrowser(io = realIo()) {
  let found = findBrowser(io);
  if (!found && !io.env.SFA_CHROMIUM?.trim() && !io.env.SFA_SKIP_BROWSER_DOWNLOAD) {
    const cli = io.playwrightCli();
    if (cli) {
      io.log('chromium: none found; trying Playwright\'s download (npx playwright install chromium)');
      if (io.run(process.execPath, [cli, 'install', 'chromium'], { timeoutMs: 600_000 }) === 0) found = playwrightBrowser(io);
    }
    if (!found && io.isRoot && io.platform === 'linux' && isDebianLike(io)) {
      io.log('chromium: trying the OS package (apt-get install chromium)');
      const env = { DEBIAN_FRONTEND: 'noninteractive' };
      if (io.run('apt-get', ['update'], { env }) === 0) {
        for (const pkg of ['chromium', 'chromium-browser']) {
          if (io.run('apt-get', ['install', '-y', '--no-install-recommends', pkg], { env }) === 0 && (found = systemBrowser(io))) break;
        }
      }
    }
  }
  if (!found) {
    io.log(`chromium: WARNING ${missingBrowserMessage(io)}`);
    return null;
  }
  io.writeFile(RECORD_FILE, `${JSON.stringify({ ...found, at: new Date().toISOString() }, null, 2)}\n`);
  io.log(`chromium: ${found.executablePath} (${found.source})`);
  return found;
}

/** The one message `npm test` prints when no browser can be had: exactly what to run. */
export function missingBrowserMessage(io = realIo()) {
  const explicit = io.env.SFA_CHROMIUM?.trim();
  if (explicit) return `SFA_CHROMIUM is ${explicit}, which is not an executable: point it at a Chrome/Chromium executable, or unset it, then \`npm test\` again.`;
  const apt = io.platform === 'linux' && isDebianLike(io) ? `${io.isRoot ? '' : 'sudo '}apt-get install -y chromium` : null;
  const fix = apt ? `\`${apt}\` (or, with internet, \`npx playwright install chromium\`)` : '`npx playwright install chromium` (needs internet)';
  return `No Chromium for the end-to-end tests: run ${fix}, then \`npm test\` again; or set SFA_CHROMIUM to a Chrome/Chromium executable.`;
}
