import type { Client } from '../api';
import { useSystemStore, useUiStore, type View } from '../stores';
import type { DroppedItems } from './files';
import { addFiles, addLinks, loadLibrary } from './library';
import { dismiss } from './notices';
import { loadSystemInfo, runDoctor } from './system';

/**
 * The effects the UI can ask for, bound to one client. Components call these (via
 * `useActions()`), never the client; these update the stores.
 */
export interface Actions {
  /** Loads what the first screen needs and keeps it fresh; returns the cleanup. */
  start(): () => void;
  loadLibrary(): Promise<void>;
  addFiles(items: DroppedItems): Promise<unknown>;
  /** Resolves with the rejected inputs' messages (empty when all were accepted). */
  addLinks(text: string): Promise<string[]>;
  runDoctor(): Promise<void>;
  navigate(view: View): void;
  dismissNotice(id: number): void;
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

  return {
    start() {
      const offConnection = client.onConnection((connection) => {
        useSystemStore.setState({ connection });
        if (connection === 'open') {
          // First connect, or back after a drop: what we show may be stale.
          void loadSystemInfo(client);
          void refresh();
        }
      });
      const offChanged = client.on('library:changed', () => void refresh());
      return () => {
        offConnection();
        offChanged();
      };
    },
    loadLibrary: refresh,
    addFiles: (items) => addFiles(client, items),
    async addLinks(text) {
      const result = await addLinks(client, text);
      if (!result) return text.trim() ? ['The links could not be sent (see the notice); try again.'] : [];
      return result.errors.map((e) => `${e.input}: ${e.message}`);
    },
    runDoctor: () => runDoctor(client),
    navigate: (view) => useUiStore.setState({ view }),
    dismissNotice: dismiss,
  };
}
