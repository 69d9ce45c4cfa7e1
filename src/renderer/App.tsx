import { useEffect } from 'react';
import { useActions } from './actions/context';
import { DropZone } from './features/library/DropZone';
import { LibraryView } from './features/library/LibraryView';
import { Notices } from './features/notices/Notices';
import { AppShell } from './features/shell/AppShell';
import { SystemView } from './features/system/SystemView';
import { useUiStore } from './stores';

export function App() {
  const actions = useActions();
  const view = useUiStore((s) => s.view);
  useEffect(() => actions.start(), [actions]);
  return (
    <>
      <AppShell>{view === 'library' ? <LibraryView /> : <SystemView />}</AppShell>
      <DropZone />
      <Notices />
    </>
  );
}
