import type { AddError, AddResult } from '../../shared/domain';
import type { Client } from '../api';
import { useLibraryStore, useSystemStore } from '../stores';
import { flattenDrop, type DroppedItems } from './files';
import { errorText, notify } from './notices';

const MAX_LISTED_ERRORS = 8;

export async function loadLibrary(client: Client): Promise<void> {
  const first = useLibraryStore.getState().status === 'idle';
  if (first) useLibraryStore.setState({ status: 'loading' });
  try {
    const { tracks } = await client.request('library.list');
    useLibraryStore.setState({ tracks, status: 'ready', error: null });
  } catch (error) {
    useLibraryStore.setState({ status: 'error', error: errorText(error) });
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
