/**
 * The shapes of names that travel between the renderer, the hosts and the engine, written once:
 * the contract validates requests with them, the media routes and the desktop channels check
 * untrusted (trackId, stem) pairs with them, the model store checks the names it writes.
 */

/** A track id (the engine mints UUIDs; tests use short ids): letters, digits, `_` and `-`. */
export const TRACK_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** A model or stem name: a file-name-safe word that cannot start with `-` or `.` (no options, no dot files). */
export const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
export const MODEL_NAME = SAFE_NAME;
export const STEM_NAME = SAFE_NAME;

/** What a media URL or a desktop action names beside stems: the track's own audio file. */
export const SOURCE = 'source';

export const isTrackId = (value: unknown): value is string => typeof value === 'string' && TRACK_ID.test(value);
export const isStemName = (value: unknown): value is string => typeof value === 'string' && STEM_NAME.test(value);
