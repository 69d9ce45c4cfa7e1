import { useEffect } from 'react';
import { useActions } from './actions/context';
import { JobsView } from './features/jobs/JobsView';
import { DropZone } from './features/library/DropZone';
import { LibraryView } from './features/library/LibraryView';
import { PasteLinks } from './features/library/PasteLinks';
import { Notices } from './features/notices/Notices';
import { SettingsView } from './features/settings/SettingsView';
import { SetupScreen } from './features/setup/SetupScreen';
import { AppShell } from './features/shell/AppShell';
import { SystemView } from './features/system/SystemView';
import { TrackView } from './features/track/TrackView';
import { useUiStore } from './stores';

export function App() {
  const actions = useActions();
  const view = useUiStore((s) => s.view);
  useEffect(() => actions.start(), [actions]);
  return (
    <>
      <AppShell>
        {view === 'library' ? <LibraryView /> : view === 'jobs' ? <JobsView /> : view === 'track' ? <TrackView /> : view === 'settings' ? <SettingsView /> : <SystemView />}
      </AppShell>
      <DropZone />
      <PasteLinks />
      <SetupScreen />
      <Notices />
    </>
  );
}
