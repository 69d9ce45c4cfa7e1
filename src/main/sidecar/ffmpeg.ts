import { execa } from 'execa';
import { pythonEnvironment } from './environment';

/**
 * The one ffmpeg the engine and its sidecars use. Precedence: `SFA_FFMPEG` in the environment the
 * app started with, then the stored `toolPaths.ffmpeg` setting (applied live by the engine through
 * `setConfiguredFfmpeg`), then the static build bundled in the sidecar environment (imageio-ffmpeg).
 * The sidecar reads the same variable (python/sfa_sidecar/audio.py `ffmpeg_exe`).
 */
export const FFMPEG_VAR = 'SFA_FFMPEG';

let configured: string | null = null;

/** The stored setting; the engine calls this at start and whenever the setting changes. */
export function setConfiguredFfmpeg(path: string | null): void {
  configured = path || null;
}

/** The ffmpeg chosen by the user (environment, then setting), or null for the bundled one. */
export function chosenFfmpeg(): string | null {
  return process.env[FFMPEG_VAR] || configured;
}

/** The sidecar environment variables that carry the choice (none: the sidecar uses its bundled build). */
export function ffmpegVars(): Record<string, string | undefined> {
  return { [FFMPEG_VAR]: chosenFfmpeg() ?? undefined };
}

let bundledCache: Promise<string> | null = null;

/** The ffmpeg to run from TypeScript: the user's choice, else the bundled build (asked once from Python). */
export function bundledFfmpeg(): Promise<string> {
  const chosen = chosenFfmpeg();
  if (chosen) return Promise.resolve(chosen);
  bundledCache ??= execa(pythonEnvironment().python, ['-c', 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())'], { timeout: 60_000 })
    .then(({ stdout }) => stdout.trim())
    .catch((error: unknown) => {
      bundledCache = null;
      throw error;
    });
  return bundledCache;
}
