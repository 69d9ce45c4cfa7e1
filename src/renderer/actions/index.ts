import type { RequestParams } from '../../shared/contract';
import type { PipelineStep } from '../../shared/domain';
import type { Client } from '../api';
import { useSettingsStore, useSystemStore, useUiStore, type View } from '../stores';
import type { DroppedItems } from './files';
import { applyJobChanged, applyProgress, applyQueues, jobAction, loadJobs, loadTitles, queueAction } from './jobs';
import { addFiles, addLinks, loadLibrary, selectRow, showRows } from './library';
import { dismiss } from './notices';
import { createPlayer, type Player } from './player';
import { downloadModel, loadModels, loadSettings, saveSettings } from './settings';
import { loadSystemInfo, runDoctor } from './system';
import { createSetupActions, subscribeSetup, type SetupActions } from './setup';
import { exportAnalysis, exportStemsToFolder, removeTracks, runPipeline } from './tracks';
import { createDjActions, type DjActions } from './dj';
import { applyImportProgress } from './import-progress';

/**
 * The effects the UI can ask for, bound to one client. Components call these (via
 * `useActions()`), never the client; these update the stores.
 */
export interface Actions {
  /** Loads what the first screen needs and keeps it fresh; returns the cleanup. */
  start(): () => void;
  loadLibrary(): Promise<void>;
  /** The library table shows rows first..last-1 (loads the pages it lacks). */
  showRows(first: number, last: number): void;
  /** A click on row `index` (track `id`) of the library table, with its modifier keys. */
  selectRow(id: string, index: number, mods: { shift: boolean; toggle: boolean }): void;
  addFiles(items: DroppedItems): Promise<unknown>;
  /** Resolves with the rejected inputs' messages (empty when all were accepted). */
  addLinks(text: string): Promise<string[]>;
  runDoctor(): Promise<void>;
  navigate(view: View): void;
  openTrack(id: string): void;
  dismissNotice(id: number): void;
  removeTracks(ids: string[]): Promise<void>;
  runPipeline(ids: string[], steps: PipelineStep[], model?: string): Promise<void>;
  exportAnalysis(format: 'csv' | 'json', ids?: string[]): Promise<void>;
  exportStemsToFolder(trackId: string, stems: string[], instrumental: boolean): Promise<void>;
  cancelJob(id: number): Promise<void>;
  retryJob(id: number): Promise<void>;
  queue(queue: string, action: 'pause' | 'resume' | { scale: number }): Promise<void>;
  loadSettings(): Promise<void>;
  saveSettings(patch: RequestParams<'settings.set'>): Promise<boolean>;
  loadModels(): Promise<void>;
  downloadModel(name: string): Promise<void>;
  /** The URL of a registered file (a stem, or 'source'). */
  mediaUrl(trackId: string, which: string, download?: boolean): string;
  /** Desktop only (null in a browser). */
  desktop: { startDrag(trackId: string, stem?: string): void; reveal(trackId: string, stem?: string): Promise<boolean> } | null;
  player: Player;
  /** First-run setup and diagnostics (actions/setup.ts). */
  setup: SetupActions;
  /** Tags, rekordbox / Traktor collections, NI Stems (actions/dj.ts). */
  dj: DjActions;
}

export function createActions(client: Client): Actions {
  let refreshing: Promise<void> | null = null;
  let again = false;
  /** Coalesces bursts of `library:changed` into at most one load in flight plus one after it. */
  const refresh = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = loadLibrary(client).finally(() => {
      refreshing = null;
      if (again) {
        again = false;
        void refresh();
      }
    });
    return refreshing;
  };
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;
  const refreshSoon = () => {
    refreshTimer ??= setTimeout(() => {
      refreshTimer = null;
      void refresh();
    }, 500);
  };
  const player = createPlayer(client);
  // Queue counts change with every job transition; the engine only pushes queues:changed on
  // pause/resume/scale, so they are re-read at most once a second while jobs change.
  let queuesTimer: ReturnType<typeof setTimeout> | null = null;
  const refreshQueues = () => {
    queuesTimer ??= setTimeout(() => {
      queuesTimer = null;
      client.request('queues.list').then(applyQueues, () => {});
    }, 1000);
  };
  const setup = createSetupActions(client);
  const dj = createDjActions(client);

  const actions: Actions = {
    start() {
      const offs = [
        client.onConnection((connection) => {
          useSystemStore.setState({ connection });
          if (connection === 'open') {
            // First connect, or back after a drop: what we show may be stale.
            void loadSystemInfo(client);
            void refresh();
            void loadJobs(client);
            void loadSettings(client);
            void setup.load();
          }
        }),
        client.on('library:changed', () => void refresh()),
        watchLibraryQuery(refresh),
        client.on('library:import', applyImportProgress),
        subscribeSetup(client, setup.load),
        dj.subscribe(),
        client.on('job:changed', (e) => {
          applyJobChanged(e);
          refreshQueues();
          void loadTitles(client);
          // Sorted by status, a job's new state can move its track: the engine sorts again.
          if (useUiStore.getState().sort.key === 'status') refreshSoon();
        }),
        client.on('job:progress', (p) => applyProgress(p)),
        client.on('queues:changed', applyQueues),
        client.on('models:progress', (p) => useSettingsStore.setState((s) => ({ downloads: { ...s.downloads, [p.name]: p } }))),
      ];
      return () => {
        offs.forEach((off) => off());
        if (refreshTimer) clearTimeout(refreshTimer);
      };
    },
    loadLibrary: refresh,
    showRows: (first, last) => void showRows(client, first, last),
    selectRow: (id, index, mods) => void selectRow(client, id, index, mods),
    addFiles: (items) => addFiles(client, items),
    async addLinks(text) {
      const result = await addLinks(client, text);
      if (!result) return text.trim() ? ['The links could not be sent (see the notice); try again.'] : [];
      return result.errors.map((e) => `${e.input}: ${e.message}`);
    },
    runDoctor: () => runDoctor(client),
    navigate(view) {
      if (view !== 'track' && useUiStore.getState().view === 'track') player.pause();
      useUiStore.setState({ view });
    },
    openTrack(id) {
      useUiStore.setState({ view: 'track', trackId: id });
      void player.open(id);
    },
    dismissNotice: dismiss,
    removeTracks: (ids) => removeTracks(client, ids),
    runPipeline: (ids, steps, model) => runPipeline(client, ids, steps, model),
    exportAnalysis: (format, ids) => exportAnalysis(client, format, ids),
    exportStemsToFolder: (trackId, stems, instrumental) => exportStemsToFolder(client, trackId, stems, instrumental),
    cancelJob: (id) => jobAction(client, 'cancel', id),
    retryJob: (id) => jobAction(client, 'retry', id),
    queue: (queue, action) => queueAction(client, queue, action),
    loadSettings: () => loadSettings(client),
    saveSettings: (patch) => saveSettings(client, patch),
    loadModels: () => loadModels(client),
    downloadModel: (name) => downloadModel(client, name),
    mediaUrl: (trackId, which, download) => client.mediaUrl(trackId, which, { download }),
    desktop: client.desktop ? { startDrag: (t, s) => client.desktop!.startDrag(t, s), reveal: (t, s) => client.desktop!.reveal(t, s) } : null,
    player,
    setup,
    dj,
  };
  return actions;
}

/**
 * A new sort, filter or search reloads the table from the engine at once: `refresh` keeps one
 * load in flight and one queued, so fast typing costs at most two queries, and the reply for an
 * older query is dropped (actions/library.ts).
 */
function watchLibraryQuery(reload: () => Promise<void>): () => void {
  return useUiStore.subscribe((s, prev) => {
    if (s.sort !== prev.sort || s.filter !== prev.filter) void reload();
  });
}
