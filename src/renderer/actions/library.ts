import type { AddError, AddResult } from '../../shared/domain';
import { LIST_MAX_IDS, LIST_MAX_LIMIT } from '../../shared/listing';
import type { Client } from '../api';
import { clickSelection, listParams, type ListParams } from '../lib/query';
import { LIBRARY_PAGE, rowAt, useLibraryStore, useSystemStore, useUiStore } from '../stores';
import { flattenDrop, type DroppedItems } from './files';
import { errorText, notify } from './notices';

const MAX_LISTED_ERRORS = 8;

function currentQuery(): { params: ListParams; queryKey: string } {
  const { sort, filter } = useUiStore.getState();
  const params = listParams(sort, filter);
  return { params, queryKey: JSON.stringify(params) };
}

/** How long a search must stand before its matches are counted (a count scans every text). */
export const COUNT_AFTER_MS = 250;
/** Pages kept around the rows shown; farther ones are dropped and load again when scrolled back to. */
const KEPT_PAGES = 40;

/**
 * Loads the rows the table shows for the current sort and filter, dropping every page loaded
 * before: after the library changed, and after a new sort, filter or search. The engine pages,
 * sorts, filters and searches, so this costs the rows shown, not the library. A common word's
 * matches come with an estimated total (`quickCount`), counted once the search stands.
 */
export async function loadLibrary(client: Client): Promise<void> {
  const before = useLibraryStore.getState();
  if (before.status === 'idle') useLibraryStore.setState({ status: 'loading' });
  const { params, queryKey } = currentQuery();
  const firstPage = Math.floor(before.shown.first / LIBRARY_PAGE);
  const pageCount = Math.min(Math.floor(LIST_MAX_LIMIT / LIBRARY_PAGE), Math.floor(Math.max(before.shown.first, before.shown.last - 1) / LIBRARY_PAGE) - firstPage + 1);
  try {
    const shown = await client.request('library.list', { ...params, offset: firstPage * LIBRARY_PAGE, limit: pageCount * LIBRARY_PAGE, quickCount: true });
    // Sort or filter changed meanwhile: the load they started sets the table.
    if (currentQuery().queryKey !== queryKey) return;
    const pages: Record<number, typeof shown.tracks> = {};
    for (let i = 0; i < pageCount; i++) pages[firstPage + i] = shown.tracks.slice(i * LIBRARY_PAGE, (i + 1) * LIBRARY_PAGE);
    // A new order moves every row: a shift-click no longer extends from the old anchor's place.
    if (before.queryKey && before.queryKey !== queryKey) useUiStore.setState({ anchor: null });
    const totalExact = shown.totalExact !== false;
    useLibraryStore.setState({ pages, queryKey, total: shown.total, totalExact, libraryTotal: shown.libraryTotal, status: 'ready', error: null });
    if (!totalExact) countSoon(client, queryKey);
  } catch (error) {
    useLibraryStore.setState({ status: 'error', error: errorText(error) });
  }
}

let countTimer: ReturnType<typeof setTimeout> | null = null;

/** Counts the matches of the rows shown once their query has stood a moment: a word still being typed is not counted. */
function countSoon(client: Client, queryKey: string): void {
  if (countTimer) clearTimeout(countTimer);
  countTimer = setTimeout(() => {
    countTimer = null;
    if (useLibraryStore.getState().queryKey !== queryKey) return;
    client.request('library.count', JSON.parse(queryKey) as ListParams).then(
      ({ total, libraryTotal }) => {
        if (useLibraryStore.getState().queryKey === queryKey) useLibraryStore.setState({ total, libraryTotal, totalExact: true });
      },
      (error: unknown) => notify('error', 'Could not count the matches', [errorText(error)]),
    );
  }, COUNT_AFTER_MS);
}

const loadingPages = new Set<string>();

/**
 * The table shows rows first..last-1: remember them (reloads fetch them) and load the pages
 * missing, with the page past each end, so that scrolling finds its rows already loaded.
 */
export async function showRows(client: Client, first: number, last: number): Promise<void> {
  useLibraryStore.setState({ shown: { first, last } });
  const { pages, queryKey, status, total } = useLibraryStore.getState();
  if (status !== 'ready' || last <= first) return;
  const wanted: number[] = [];
  const lastPage = Math.max(0, Math.floor((total - 1) / LIBRARY_PAGE));
  for (let page = Math.max(0, Math.floor(first / LIBRARY_PAGE) - 1); page <= Math.min(lastPage, Math.floor((last - 1) / LIBRARY_PAGE) + 1); page++) {
    if (!pages[page] && !loadingPages.has(`${queryKey}#${page}`)) wanted.push(page);
  }
  await Promise.all(
    wanted.map(async (page) => {
      const key = `${queryKey}#${page}`;
      loadingPages.add(key);
      try {
        const reply = await client.request('library.list', { ...(JSON.parse(queryKey) as ListParams), offset: page * LIBRARY_PAGE, limit: LIBRARY_PAGE, quickCount: true });
        // Pages of an older sort or filter, or from before a reload, are dropped; an estimate
        // does not replace the total shown (the count follows).
        if (useLibraryStore.getState().queryKey !== queryKey) return;
        const exact = reply.totalExact !== false ? { total: reply.total, totalExact: true } : {};
        useLibraryStore.setState((s) => ({ pages: nearShown({ ...s.pages, [page]: reply.tracks }, s.shown), libraryTotal: reply.libraryTotal, ...exact }));
      } catch (error) {
        notify('error', 'Could not load the library', [errorText(error)]);
      } finally {
        loadingPages.delete(key);
      }
    }),
  );
}

/** The pages within `KEPT_PAGES` / 2 of the rows shown: scrolling through 100,000 tracks keeps a few thousand. */
function nearShown<P>(pages: Record<number, P>, shown: { first: number; last: number }): Record<number, P> {
  const low = Math.floor(shown.first / LIBRARY_PAGE) - KEPT_PAGES / 2;
  const high = Math.floor(shown.last / LIBRARY_PAGE) + KEPT_PAGES / 2;
  const kept: Record<number, P> = {};
  for (const [page, rows] of Object.entries(pages)) if (Number(page) >= low && Number(page) <= high) kept[Number(page)] = rows;
  return kept;
}

/**
 * A click on row `index` (track `id`) of the table: plain, ctrl/cmd (toggle) or shift (a range
 * from the anchor). A range over rows the table has not loaded asks the engine for their ids.
 */
export async function selectRow(client: Client, id: string, index: number, mods: { shift: boolean; toggle: boolean }): Promise<void> {
  const { selected, anchor } = useUiStore.getState();
  const library = useLibraryStore.getState();
  const next = clickSelection(selected, anchor, { id, index }, (i) => rowAt(library, i)?.id, mods);
  if ('selected' in next) {
    useUiStore.setState(next);
    return;
  }
  const [lo, hi] = next.range;
  const queryKey = library.queryKey;
  try {
    const { ids } = await client.request('library.ids', { ...(JSON.parse(queryKey) as ListParams), offset: lo, limit: Math.min(LIST_MAX_IDS, hi - lo + 1) });
    // The rows moved meanwhile (a new sort or filter): the range no longer means what was clicked.
    if (useLibraryStore.getState().queryKey !== queryKey) return;
    useUiStore.setState({ selected: new Set([...next.keep, ...ids]) });
  } catch (error) {
    notify('error', 'Could not select the range', [errorText(error)]);
  }
}

/** Tells the user what an add did: one notice for the added tracks, one listing each rejection. */
export function reportAdd(result: AddResult, options: AddOptions = {}): void {
  const displayName = options.displayName ?? ((input: string) => input);
  if (result.tracks.length) notify('success', `Added ${result.tracks.length} ${result.tracks.length === 1 ? 'track' : 'tracks'}`);
  if (result.errors.length && !options.errorsShownInline) {
    const lines = result.errors.slice(0, MAX_LISTED_ERRORS).map((e) => describeError(e, displayName(e.input)));
    if (result.errors.length > MAX_LISTED_ERRORS) lines.push(`…and ${result.errors.length - MAX_LISTED_ERRORS} more`);
    notify('error', result.errors.length === 1 ? 'Could not add 1 item' : `Could not add ${result.errors.length} items`, lines);
  }
}

export interface AddOptions {
  /** How to name an input in messages (an uploaded file's own name, not its server path). */
  displayName?: (input: string) => string;
  /** The caller lists the rejected inputs next to where they were typed: no error notice. */
  errorsShownInline?: boolean;
}

/** One line per rejected input, naming it once, by the name the user knows (not a server path). */
export function describeError(error: AddError, name: string): string {
  const message = error.input === name ? error.message : error.message.split(error.input).join(name);
  return message.includes(name) ? message : `${name}: ${message}`;
}

/** Adds paths or links and reports the outcome; the result lets a caller show errors inline. */
export async function addInputs(client: Client, inputs: string[], options: AddOptions = {}): Promise<AddResult | null> {
  if (inputs.length === 0) return null;
  try {
    const result = await client.request('library.add', { inputs });
    reportAdd(result, options);
    if (result.tracks.length) void loadLibrary(client);
    return result;
  } catch (error) {
    notify('error', 'Could not add', [errorText(error)]);
    return null;
  }
}

/** Pasted text: one link per line or separated by spaces. */
export function splitLinks(text: string): string[] {
  return text
    .split(/\s+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export function addLinks(client: Client, text: string): Promise<AddResult | null> {
  return addInputs(client, splitLinks(text), { errorsShownInline: true });
}

/**
 * Files from a drop or a file picker. Where the host sees local paths (Electron) they are passed
 * as they are, folders included; otherwise each file is uploaded first, then its server path added.
 */
export async function addFiles(client: Client, items: DroppedItems): Promise<AddResult | null> {
  const canPassPaths = useSystemStore.getState().info?.canPassPaths ?? false;
  if (canPassPaths) {
    const paths = items.files.map((f) => client.files.pathOf(f)).filter((p): p is string => !!p);
    if (paths.length) return withActivity(`Adding ${count(paths.length, 'item')}`, paths.length, () => addInputs(client, paths));
  }
  const files = await flattenDrop(items);
  if (files.length === 0) {
    notify('error', 'Nothing to add', ['The drop held no audio files.']);
    return null;
  }
  const names = new Map<string, string>();
  const failures: string[] = [];
  const total = files.reduce((sum, f) => sum + f.size, 0);
  let sentBefore = 0;
  useLibraryStore.setState({ importing: { label: `Uploading ${count(files.length, 'file')}`, unit: 'bytes', done: 0, total } });
  for (const file of files) {
    try {
      const path = await client.files.upload(file, (sent) => {
        useLibraryStore.setState({ importing: { label: `Uploading ${file.name}`, unit: 'bytes', done: sentBefore + sent, total } });
      });
      names.set(path, file.name);
    } catch (error) {
      failures.push(errorText(error));
    }
    sentBefore += file.size;
  }
  useLibraryStore.setState({ importing: null });
  if (failures.length) notify('error', `Could not upload ${count(failures.length, 'file')}`, failures.slice(0, MAX_LISTED_ERRORS));
  const paths = [...names.keys()];
  if (!paths.length) return null;
  return withActivity(`Adding ${count(paths.length, 'file')}`, paths.length, () => addInputs(client, paths, { displayName: (input) => names.get(input) ?? input }));
}

async function withActivity<T>(label: string, total: number, work: () => Promise<T>): Promise<T> {
  useLibraryStore.setState({ importing: { label, unit: 'items', done: 0, total } });
  try {
    return await work();
  } finally {
    useLibraryStore.setState({ importing: null });
  }
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
