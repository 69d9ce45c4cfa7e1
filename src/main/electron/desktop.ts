/**
 * Desktop-only actions the preload exposes beside the contract (drag a stem out, reveal a file,
 * choose a folder), as pure functions: arguments from the renderer are untrusted, so each is
 * validated and resolved to a file registered in the library, never taken as a path.
 */
import type { MediaFile } from '../media/lookup';

export const DESKTOP_CHANNELS = { startDrag: 'sfa:start-drag', reveal: 'sfa:reveal', chooseFolder: 'sfa:choose-folder' } as const;

const ID = /^[A-Za-z0-9_-]{1,128}$/;
const WHICH = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** The registered file a (trackId, stem|'source') pair from the renderer names, or null. */
export function registeredFile(lookup: (trackId: string, which: string) => MediaFile | null, trackId: unknown, which: unknown): string | null {
  if (typeof trackId !== 'string' || !ID.test(trackId)) return null;
  const w = which === undefined || which === null ? 'source' : which;
  if (typeof w !== 'string' || !WHICH.test(w)) return null;
  return lookup(trackId, w)?.path ?? null;
}
