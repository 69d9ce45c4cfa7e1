import { execa } from 'execa';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { DoctorCheck, DoctorReport } from '../../shared/domain';
import { toErrorInfo } from '../../shared/errors';
import { appRoot } from '../paths';
import { pythonEnvironment, pythonExists, type PythonEnvironment } from '../sidecar/environment';
import type { SidecarPool } from '../sidecar/pool';
import type { SidecarDevice } from '../sidecar/protocol';

interface SidecarDoctor {
  versions: Record<string, string | null>;
  devices: SidecarDevice[];
  ffmpeg: string;
}

/** Where an external tool lives: the env override, else the sidecar environment's bin folder. */
export function toolPath(tool: 'spotdl' | 'yt-dlp', env: PythonEnvironment = pythonEnvironment()): string {
  const override = tool === 'spotdl' ? process.env.SFA_SPOTDL_BIN : process.env.SFA_YTDLP_BIN;
  if (override) return override;
  return join(env.binDir, process.platform === 'win32' ? `${tool}.exe` : tool);
}

/**
 * The JavaScript runtime yt-dlp needs for YouTube (and so spotdl, whose audio comes from YouTube
 * Music): the pinned `deno` wheel puts it in the environment's bin folder. `SFA_DENO_BIN` overrides.
 */
export function denoPath(env: PythonEnvironment = pythonEnvironment()): string {
  return process.env.SFA_DENO_BIN ?? join(env.binDir, process.platform === 'win32' ? 'deno.exe' : 'deno');
}

/** deno and the yt-dlp-ejs scripts, as the download worker passes them to yt-dlp. */
async function jsRuntimeCheck(): Promise<DoctorCheck> {
  const env = pythonEnvironment();
  const path = denoPath(env);
  let deno: string;
  try {
    const { stdout } = await execa(path, ['--version'], { timeout: 30_000 });
    deno = /deno (\S+)/.exec(stdout)?.[1] ?? stdout.trim().split('\n')[0] ?? '';
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'deno is not installed' : `deno does not run: ${e.message.split('\n')[0]}`;
    return { name: 'js-runtime', ok: false, path, detail: `${why}: YouTube and Spotify downloads fail ("Requested format is not available"). Re-run the setup (npm run setup in a checkout) to install the pinned deno and yt-dlp-ejs.` };
  }
  let ejs: string | null = null;
  try {
    const { stdout } = await execa(env.python, ['-c', 'import importlib.metadata as m; print(m.version("yt-dlp-ejs"))'], { timeout: 30_000 });
    ejs = stdout.trim() || null;
  } catch {
    // not installed
  }
  return ejs
    ? { name: 'js-runtime', ok: true, version: `deno ${deno}, yt-dlp-ejs ${ejs}`, path }
    : { name: 'js-runtime', ok: false, version: `deno ${deno}`, path, detail: 'yt-dlp-ejs is not installed: YouTube downloads lack the challenge solver scripts. Re-run the setup.' };
}

async function toolVersion(name: 'spotdl' | 'yt-dlp'): Promise<DoctorCheck> {
  const path = toolPath(name);
  try {
    const { stdout } = await execa(path, ['--version'], { timeout: 30_000 });
    return { name, ok: true, version: stdout.trim().split('\n').pop()?.trim() ?? '', path };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    return { name, ok: false, path, detail: e.code === 'ENOENT' ? 'not installed (run npm install)' : e.message.split('\n')[0] };
  }
}

function electronCheck(): DoctorCheck {
  const distDir = join(appRoot(), 'node_modules', 'electron', 'dist');
  const bin = process.platform === 'darwin' ? join(distDir, 'Electron.app') : join(distDir, process.platform === 'win32' ? 'electron.exe' : 'electron');
  if (process.versions.electron) return { name: 'electron', ok: true, version: process.versions.electron, path: process.execPath };
  return existsSync(bin)
    ? { name: 'electron', ok: true, path: bin }
    : { name: 'electron', ok: false, path: bin, detail: 'Electron binary not downloaded: the desktop window is unavailable; `npm start` serves the UI to a browser instead' };
}

function describeDevice(devices: SidecarDevice[]): string {
  const cuda = devices.find((d) => d.type === 'cuda');
  if (cuda) return `cuda: ${cuda.name}${cuda.freeMemory ? `, ${(cuda.freeMemory / 2 ** 30).toFixed(1)} GB free` : ''}`;
  if (devices.some((d) => d.type === 'mps')) return 'mps: Apple Metal';
  return `cpu${devices[0]?.detail ? ` (${devices[0].detail})` : ': no CUDA or MPS device'}`;
}

/** What works on this machine: each check with the executable it used. Never throws. */
export async function doctor(pool: SidecarPool): Promise<DoctorReport> {
  // The tools start slowly (spotdl imports a lot): ask everything at once.
  const [python, spotdl, ytdlp, js] = await Promise.all([pythonChecks(pool), toolVersion('spotdl'), toolVersion('yt-dlp'), jsRuntimeCheck()]);
  return { checks: [...python, spotdl, ytdlp, js, electronCheck()] };
}

async function pythonChecks(pool: SidecarPool): Promise<DoctorCheck[]> {
  const env = pythonEnvironment();
  const checks: DoctorCheck[] = [];
  if (!pythonExists(env)) {
    checks.push({ name: 'python', ok: false, path: env.python, detail: 'the sidecar environment is missing: run `npm install` (or `npm run setup`)' });
    for (const name of ['torch', 'demucs', 'librosa', 'ffmpeg']) checks.push({ name, ok: false, detail: 'needs the Python environment' });
  } else {
    try {
      const report = await pool.run<SidecarDoctor>('doctor', {}, { timeoutMs: 120_000 });
      const v = report.versions;
      checks.push({ name: 'python', ok: true, version: v.python ?? undefined, path: env.python });
      checks.push({
        name: 'torch',
        ok: Boolean(v.torch),
        version: v.torch ?? undefined,
        detail: v.torch ? `device: ${describeDevice(report.devices)}` : 'torch is not installed',
      });
      for (const name of ['demucs', 'librosa'] as const) {
        checks.push({ name, ok: Boolean(v[name]), version: v[name] ?? undefined, ...(v[name] ? {} : { detail: `${name} is not installed` }) });
      }
      checks.push({ name: 'ffmpeg', ok: existsSync(report.ffmpeg), path: report.ffmpeg, version: v['imageio-ffmpeg'] ? `imageio-ffmpeg ${v['imageio-ffmpeg']}` : undefined });
    } catch (error) {
      const info = toErrorInfo(error);
      checks.push({ name: 'python', ok: false, path: env.python, detail: `the sidecar does not start: ${info.message}` });
    }
  }
  return checks;
}
