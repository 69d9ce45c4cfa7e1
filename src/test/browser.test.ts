/**
 * The Chromium decision of `npm install` / `npm test` (scripts/browser.mjs) with its effects faked:
 * which browser is chosen, what is run to get one, and the one message when none can be had.
 */
import { describe, expect, it } from 'vitest';
import { RECORD_FILE, findBrowser, missingBrowserMessage, provisionBrowser, type BrowserIo } from '../../scripts/browser.mjs';
import { provisionFfprobe } from '../../scripts/ffprobe.mjs';

const PW = '/root/.cache/ms-playwright/chromium-1/chrome-linux64/chrome';
const DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n';
const UBUNTU = 'NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n';
const FEDORA = 'NAME="Fedora Linux"\nID=fedora\n';

interface Fake extends BrowserIo {
  runs: string[];
  files: Map<string, string>;
  executables: Set<string>;
  logs: string[];
}

/** A machine: the executables it has, its os-release, and what each command installs when run. */
function machine(opts: {
  executables?: string[];
  osRelease?: string | null;
  isRoot?: boolean;
  platform?: string;
  env?: Record<string, string>;
  /** Command line (joined by spaces, after the program) -> [exit status, executables it creates]. */
  effects?: Record<string, [number, string[]?]>;
}): Fake {
  const files = new Map<string, string>();
  if (opts.osRelease) files.set('/etc/os-release', opts.osRelease);
  const executables = new Set(opts.executables ?? []);
  const runs: string[] = [];
  const logs: string[] = [];
  return {
    runs,
    files,
    executables,
    logs,
    env: opts.env ?? {},
    platform: opts.platform ?? 'linux',
    isRoot: opts.isRoot ?? false,
    isExecutable: (p) => executables.has(p),
    readFile: (p) => files.get(p) ?? null,
    writeFile: (p, t) => void files.set(p, t),
    run(cmd, args) {
      const line = [cmd.endsWith('node') || cmd === process.execPath ? 'node' : cmd, ...args.map((a) => (a.endsWith('cli.js') ? 'playwright' : a))].join(' ');
      runs.push(line);
      const [status, creates = []] = opts.effects?.[line] ?? [1];
      if (status === 0) creates.forEach((c) => executables.add(c));
      return status;
    },
    playwrightChromium: () => PW,
    playwrightCli: () => '/repo/node_modules/playwright-core/cli.js',
    which: (name) => [...executables].find((p) => p.endsWith(`/${name}`)) ?? null,
    log: (m) => void logs.push(m),
  };
}

const recordOf = (io: Fake) => JSON.parse(io.files.get(RECORD_FILE) ?? 'null') as { executablePath: string; source: string } | null;

describe('the Chromium for the end-to-end tests', () => {
  it('uses a system Chromium when there is one, records it, and installs nothing', () => {
    const io = machine({ executables: ['/usr/bin/chromium'], osRelease: DEBIAN, isRoot: true });
    expect(provisionBrowser(io)).toEqual({ executablePath: '/usr/bin/chromium', source: 'system' });
    expect(io.runs).toEqual([]);
    expect(recordOf(io)).toMatchObject({ executablePath: '/usr/bin/chromium', source: 'system' });
  });

  it('finds Google Chrome on macOS', () => {
    const chrome = '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome';
    expect(findBrowser(machine({ platform: 'darwin', executables: [chrome] }))).toEqual({ executablePath: chrome, source: 'system' });
  });

  it("downloads Playwright's Chromium where that works, before any OS package", () => {
    const io = machine({ osRelease: DEBIAN, isRoot: true, effects: { 'node playwright install chromium': [0, [PW]] } });
    expect(provisionBrowser(io)).toEqual({ executablePath: PW, source: 'playwright' });
    expect(io.runs).toEqual(['node playwright install chromium']);
    expect(recordOf(io)?.executablePath).toBe(PW);
  });

  it('installs the OS package non-interactively as root on Debian when the download fails', () => {
    const io = machine({ osRelease: DEBIAN, isRoot: true, effects: { 'apt-get update': [0], 'apt-get install -y --no-install-recommends chromium': [0, ['/usr/bin/chromium']] } });
    expect(provisionBrowser(io)).toEqual({ executablePath: '/usr/bin/chromium', source: 'system' });
    expect(io.runs).toEqual(['node playwright install chromium', 'apt-get update', 'apt-get install -y --no-install-recommends chromium']);
  });

  it("falls back to Ubuntu's chromium-browser package", () => {
    const io = machine({
      osRelease: UBUNTU,
      isRoot: true,
      effects: { 'apt-get update': [0], 'apt-get install -y --no-install-recommends chromium-browser': [0, ['/usr/bin/chromium-browser']] },
    });
    expect(provisionBrowser(io)?.executablePath).toBe('/usr/bin/chromium-browser');
    expect(io.runs.at(-1)).toBe('apt-get install -y --no-install-recommends chromium-browser');
  });

  it('never runs apt-get without root, nor on other distributions', () => {
    for (const io of [machine({ osRelease: DEBIAN, isRoot: false }), machine({ osRelease: FEDORA, isRoot: true }), machine({ platform: 'darwin', isRoot: true })]) {
      expect(provisionBrowser(io)).toBeNull();
      expect(io.runs).toEqual(['node playwright install chromium']);
      expect(io.files.has(RECORD_FILE)).toBe(false);
      expect(io.logs.at(-1)).toMatch(/WARNING No Chromium/);
    }
  });

  it('prefers SFA_CHROMIUM, and refuses one that is not executable instead of guessing', () => {
    expect(findBrowser(machine({ env: { SFA_CHROMIUM: '/opt/c/chrome' }, executables: ['/opt/c/chrome', '/usr/bin/chromium'] }))).toEqual({ executablePath: '/opt/c/chrome', source: 'SFA_CHROMIUM' });
    const io = machine({ env: { SFA_CHROMIUM: '/nope' }, executables: ['/usr/bin/chromium'], osRelease: DEBIAN, isRoot: true });
    expect(provisionBrowser(io)).toBeNull();
    expect(io.runs).toEqual([]);
    expect(missingBrowserMessage(io)).toMatch(/SFA_CHROMIUM is \/nope, which is not an executable/);
  });

  it('uses the recorded choice while it exists, and looks again when it is gone', () => {
    const io = machine({ executables: [PW, '/usr/bin/chromium'] });
    io.files.set(RECORD_FILE, JSON.stringify({ executablePath: PW, source: 'playwright' }));
    expect(findBrowser(io)?.executablePath).toBe(PW);
    io.executables.delete(PW);
    expect(findBrowser(io)).toEqual({ executablePath: '/usr/bin/chromium', source: 'system' });
  });

  it('SFA_SKIP_BROWSER_DOWNLOAD runs nothing', () => {
    const io = machine({ env: { SFA_SKIP_BROWSER_DOWNLOAD: '1' }, osRelease: DEBIAN, isRoot: true });
    expect(provisionBrowser(io)).toBeNull();
    expect(io.runs).toEqual([]);
  });

  it('names exactly what to run when no browser can be had', () => {
    expect(missingBrowserMessage(machine({ osRelease: DEBIAN, isRoot: false }))).toBe(
      'No Chromium for the end-to-end tests: run `sudo apt-get install -y chromium` (or, with internet, `npx playwright install chromium`), then `npm test` again; or set SFA_CHROMIUM to a Chrome/Chromium executable.',
    );
    expect(missingBrowserMessage(machine({ osRelease: DEBIAN, isRoot: true }))).toMatch(/run `apt-get install -y chromium`/);
    expect(missingBrowserMessage(machine({ platform: 'darwin' }))).toMatch(/run `npx playwright install chromium` \(needs internet\)/);
  });
});

describe('ffprobe for the NI Stems read-back tests', () => {
  it('uses the one on the PATH and installs nothing', () => {
    const io = machine({ executables: ['/usr/bin/ffprobe'], osRelease: DEBIAN, isRoot: true });
    expect(provisionFfprobe(io)).toBe(true);
    expect(io.runs).toEqual([]);
  });

  it('installs Debian\'s ffmpeg as root when it is missing', () => {
    const io = machine({ osRelease: DEBIAN, isRoot: true, effects: { 'apt-get update': [0], 'apt-get install -y --no-install-recommends ffmpeg': [0, ['/usr/bin/ffprobe']] } });
    expect(provisionFfprobe(io)).toBe(true);
    expect(io.runs).toEqual(['apt-get update', 'apt-get install -y --no-install-recommends ffmpeg']);
  });

  it('says what to run, and installs nothing, without root', () => {
    const io = machine({ osRelease: UBUNTU });
    expect(provisionFfprobe(io)).toBe(false);
    expect(io.runs).toEqual([]);
    expect(io.logs.join('\n')).toContain('sudo apt-get install -y ffmpeg');
  });
});
