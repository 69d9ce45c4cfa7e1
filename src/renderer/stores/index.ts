import { initialJobsState, useJobsStore } from './jobs';
import { initialLibraryState, useLibraryStore } from './library';
import { useNoticesStore } from './notices';
import { initialPlayerState, usePlayerStore } from './player';
import { initialSettingsState, useSettingsStore } from './settings';
import { initialSystemState, useSystemStore } from './system';
import { initialUiState, useUiStore } from './ui';
import { initialSetupState, useSetupStore } from './setup';
import { initialDjState, useDjStore } from './dj';

export { useLibraryStore, LIBRARY_PAGE, rowAt, loadedTracks, type LibraryState, type ImportActivity } from './library';
export { useSystemStore, type SystemState } from './system';
export { useNoticesStore, type Notice } from './notices';
export { useUiStore, type View, type UiState } from './ui';
export { useJobsStore, type JobsState } from './jobs';
export { useSettingsStore, type SettingsState } from './settings';
export { usePlayerStore, type PlayerState } from './player';
export { useSetupStore, type SetupState } from './setup';
export { useDjStore, type DjState } from './dj';

/** Back to a fresh app (tests). */
export function resetStores(): void {
  useLibraryStore.setState({ ...initialLibraryState }, true);
  useSystemStore.setState({ ...initialSystemState }, true);
  useNoticesStore.setState({ notices: [] }, true);
  useUiStore.setState({ ...initialUiState, selected: new Set() }, true);
  useJobsStore.setState({ ...initialJobsState }, true);
  useSettingsStore.setState({ ...initialSettingsState }, true);
  usePlayerStore.setState({ ...initialPlayerState }, true);
  useSetupStore.setState({ ...initialSetupState, diagnostics: { ...initialSetupState.diagnostics } }, true);
  useDjStore.setState({ ...initialDjState, fileTags: {} }, true);
}
