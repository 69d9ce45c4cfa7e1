import { initialLibraryState, useLibraryStore } from './library';
import { useNoticesStore } from './notices';
import { initialSystemState, useSystemStore } from './system';
import { useUiStore } from './ui';

export { useLibraryStore, type LibraryState, type ImportActivity } from './library';
export { useSystemStore, type SystemState } from './system';
export { useNoticesStore, type Notice } from './notices';
export { useUiStore, type View } from './ui';

/** Back to a fresh app (tests). */
export function resetStores(): void {
  useLibraryStore.setState({ ...initialLibraryState }, true);
  useSystemStore.setState({ ...initialSystemState }, true);
  useNoticesStore.setState({ notices: [] }, true);
  useUiStore.setState({ view: 'library' }, true);
}
