/**
 * The library listing's window: the columns it sorts by, its page bounds and the order of the
 * status column, written once for the contract, the engine's SQL and the renderer's table.
 */
export const LIST_SORT_COLUMNS = ['title', 'artist', 'duration', 'bpm', 'key', 'energy', 'loudness', 'source', 'status', 'addedAt'] as const;
export type ListSortColumn = (typeof LIST_SORT_COLUMNS)[number];

/** Rows in one window when the caller asks for a window without naming its size. */
export const LIST_DEFAULT_LIMIT = 200;
export const LIST_MAX_LIMIT = 1000;
/** Track ids in one `library.ids` answer (a shift-click range over the whole table). */
export const LIST_MAX_IDS = 100_000;
/** Track ids in one `library.titles` request. */
export const TITLES_MAX_IDS = 1000;

/** A Camelot code as the engine stores it: 1A-12B. */
export const CAMELOT_CODE = /^(1[0-2]|[1-9])[AB]$/;

/**
 * The status column's kinds (renderer/lib/pipeline.ts derives them from the track and its jobs),
 * in the order an ascending sort by status shows them: work in progress first, finished last.
 */
export const STATUS_KINDS = ['running', 'queued', 'failed', 'missing', 'pending', 'cancelled', 'done', 'ready'] as const;
export type StatusKind = (typeof STATUS_KINDS)[number];
