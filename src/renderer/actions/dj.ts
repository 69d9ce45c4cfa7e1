import type { RequestName } from '../../shared/contract';
import type { Skipped } from '../../shared/dj';
import type { Client } from '../api';
import { useDjStore } from '../stores/dj';
import { errorText, notify } from './notices';

const MAX_LISTED = 8;

/** DJ-software effects: tags in the files, rekordbox / Traktor collections, NI Stems files. */
export interface DjActions {
  writeTags(ids: string[]): Promise<void>;
  restoreTags(ids: string[]): Promise<void>;
  exportCollection(format: 'rekordbox' | 'traktor' | 'm3u', ids: string[]): Promise<void>;
  exportNiStems(ids: string[]): Promise<void>;
  loadFileTags(id: string): Promise<void>;
  /** Follows `dj:progress`; returns the unsubscribe. */
  subscribe(): () => void;
}

const COLLECTION_FILES = { rekordbox: 'rekordbox.xml', traktor: 'collection.nml', m3u: 'playlist.m3u8' } as const;

function skippedLines(skipped: Skipped[]): string[] {
  const lines = skipped.slice(0, MAX_LISTED).map((s) => s.reason);
  if (skipped.length > MAX_LISTED) lines.push(`…and ${skipped.length - MAX_LISTED} more`);
  return lines;
}

export function createDjActions(client: Client): DjActions {
  /** Runs one task at a time, showing it as busy, reporting failures as a notice. */
  async function run<T>(label: string, failure: string, work: () => Promise<T>): Promise<T | null> {
    if (useDjStore.getState().busy) {
      notify('info', 'Another export is still running', [useDjStore.getState().busy!.label]);
      return null;
    }
    useDjStore.setState({ busy: { label, progress: null } });
    try {
      return await work();
    } catch (error) {
      notify('error', failure, [errorText(error)]);
      return null;
    } finally {
      useDjStore.setState({ busy: null });
    }
  }
  /** Desktop: a folder the user picks; browser: the library's exports folder (the engine's default). */
  async function destination(): Promise<string | undefined | null> {
    if (!client.desktop) return undefined;
    return client.desktop.chooseFolder();
  }
  const tagTask = async (name: Extract<RequestName, 'tags.write' | 'tags.restore'>, ids: string[]) => {
    const verb = name === 'tags.write' ? 'Wrote tags into' : 'Restored the tags of';
    const result = await run(name === 'tags.write' ? 'Writing tags' : 'Restoring tags', 'Could not change the tags', () => client.request(name, { ids }));
    if (!result) return;
    if (result.written) notify('success', `${verb} ${result.written} ${result.written === 1 ? 'file' : 'files'}`);
    if (result.skipped.length) notify('error', `${result.skipped.length} skipped`, skippedLines(result.skipped));
    for (const id of ids) if (useDjStore.getState().fileTags[id]) void actions.loadFileTags(id);
  };
  const actions: DjActions = {
    writeTags: (ids) => tagTask('tags.write', ids),
    restoreTags: (ids) => tagTask('tags.restore', ids),
    async exportCollection(format, ids) {
      const folder = await destination();
      if (folder === null) return;
      const out = folder === undefined ? undefined : `${folder}/${COLLECTION_FILES[format]}`;
      const result = await run(`Exporting to ${format}`, `Could not export to ${format}`, () => client.request(`export.${format}`, { ids, ...(out ? { out } : {}) }));
      if (!result) return;
      notify('success', `Exported ${result.written} ${result.written === 1 ? 'track' : 'tracks'}`, [result.file]);
      if (result.skipped.length) notify('error', `${result.skipped.length} skipped`, skippedLines(result.skipped));
    },
    async exportNiStems(ids) {
      const dir = await destination();
      if (dir === null) return;
      const result = await run('Writing NI Stems files', 'Could not write NI Stems files', () =>
        client.request('export.stemFiles', { ids, format: 'stem.mp4', ...(dir ? { dir } : {}) }),
      );
      if (!result) return;
      if (result.files.length) notify('success', `Wrote ${result.files.length} NI Stems ${result.files.length === 1 ? 'file' : 'files'}`, [result.dir]);
      if (result.skipped.length) notify('error', `${result.skipped.length} skipped`, skippedLines(result.skipped));
    },
    async loadFileTags(id) {
      try {
        const view = await client.request('tags.read', { id });
        useDjStore.setState((s) => ({ fileTags: { ...s.fileTags, [id]: view } }));
      } catch {
        // the track view simply shows no file tags
      }
    },
    subscribe: () =>
      client.on('dj:progress', (progress) => useDjStore.setState((s) => (s.busy ? { busy: { ...s.busy, progress } } : s))),
  };
  return actions;
}
