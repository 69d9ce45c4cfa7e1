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

// A cluster address (Ray): `ray://HOST:PORT` (Ray Client) or a head on this machine
// (`127.0.0.1:PORT`, `localhost:PORT`). Nothing else: no user:password, path, query or other
// scheme, so an address cannot smuggle options into Ray or point the driver at something else.
// The Python driver checks the same strings (src/shared/cluster-addresses.json holds the
// examples both sides test, and this pattern's source): only syntax both regex engines read the
// same way (groups, classes, bounded repeats, lookaheads); Python must use `re.fullmatch`.
const PORT = '(?:6553[0-5]|655[0-2]\\d|65[0-4]\\d{2}|6[0-4]\\d{3}|[1-5]\\d{4}|[1-9]\\d{0,3})';
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = `(?:${OCTET}\\.){3}${OCTET}`;
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
// at most 253 characters, and the last label is not all digits (that would be a mistyped IPv4)
const DNS_NAME = `(?=[A-Za-z0-9.-]{1,253}:)(?:${LABEL}\\.)*(?=[A-Za-z0-9-]*[A-Za-z])${LABEL}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const IPV6 = [
  `(?:${H16}:){7}${H16}`,
  `(?:${H16}:){1,7}:`,
  `(?:${H16}:){1,6}:${H16}`,
  `(?:${H16}:){1,5}(?::${H16}){1,2}`,
  `(?:${H16}:){1,4}(?::${H16}){1,3}`,
  `(?:${H16}:){1,3}(?::${H16}){1,4}`,
  `(?:${H16}:){1,2}(?::${H16}){1,5}`,
  `${H16}:(?::${H16}){1,6}`,
  `:(?:(?::${H16}){1,7}|:)`,
  `::(?:[Ff]{4}(?::0{1,4})?:)?${IPV4}`,
  `(?:${H16}:){1,4}:${IPV4}`,
].join('|');
export const CLUSTER_ADDRESS = new RegExp(`^(?:ray://(?:${IPV4}|${DNS_NAME}|\\[(?:${IPV6})\\])|127\\.0\\.0\\.1|localhost):${PORT}$`);

/** A Ray auth token as the engine accepts it: printable, no spaces (it travels in an environment variable). */
export const CLUSTER_TOKEN = /^[\x21-\x7e]{8,4096}$/;

export const isClusterAddress = (value: unknown): value is string => typeof value === 'string' && value.length <= 300 && CLUSTER_ADDRESS.test(value);
