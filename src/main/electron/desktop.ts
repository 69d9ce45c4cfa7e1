/**
 * Desktop-only actions the preload exposes beside the contract (drag a stem out, reveal a file,
 * choose a folder) and the file paths the OS hands the app (file associations), as pure functions.
 * Arguments from the renderer are untrusted: a (trackId, stem) pair goes through the engine's
 * media lookup, which validates it and resolves it to a registered file, never taken as a path.
 */
import { isAbsolute, resolve } from 'node:path';
import { SOURCE } from '../../shared/patterns';
import type { MediaEntry } from '../media/lookup';

export { IPC_CHANNELS as DESKTOP_CHANNELS } from '../../shared/desktop';

/** The registered file a (trackId, stem|'source') pair from the renderer names, or null. */
export function registeredFile(media: (trackId: unknown, which: unknown) => MediaEntry | null, trackId: unknown, which: unknown): string | null {
  return media(trackId, which === undefined || which === null ? SOURCE : which)?.path ?? null;
}

/**
 * The files to open from a command line (the first start, or a second instance's argv): what
 * follows the executable (and, in dev, the app folder Electron was given), minus Chromium/Electron
 * switches, resolved against the caller's working directory. library.add validates each.
 */
export function filesFromArgv(argv: readonly string[], options: { cwd: string; defaultApp: boolean }): string[] {
  return argv
    .slice(options.defaultApp ? 2 : 1)
    .filter((arg) => arg.length > 0 && !arg.startsWith('-'))
    .map((arg) => (isAbsolute(arg) ? arg : resolve(options.cwd, arg)));
}
