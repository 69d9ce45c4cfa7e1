import type { ReactNode } from 'react';
import { useActions } from '../../actions/context';
import { useJobsStore, useLibraryStore, useSystemStore, useUiStore, type View } from '../../stores';
import { StatusBar } from './StatusBar';

const CONNECTION_TEXT = {
  connecting: 'Connecting…',
  open: 'Connected',
  reconnecting: 'Reconnecting…',
  offline: 'Cannot reach the server — if sfa serve was restarted, open the new URL it printed',
} as const;

function Header() {
  const connection = useSystemStore((s) => s.connection);
  const host = useSystemStore((s) => s.info?.host);
  return (
    <header className="app-header">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        <span className="brand-name">Sound Forge Alchemy</span>
      </div>
      <div className={`connection connection-${connection}`} role="status" title={host === 'serve' ? 'Browser session (sfa serve)' : undefined}>
        <span className="dot" aria-hidden="true" />
        {CONNECTION_TEXT[connection]}
      </div>
    </header>
  );
}

function NavItem({ view, label, badge }: { view: View; label: string; badge?: number | undefined }) {
  const actions = useActions();
  const current = useUiStore((s) => s.view);
  return (
    <button type="button" className={`nav-item${current === view ? ' active' : ''}`} aria-current={current === view ? 'page' : undefined} onClick={() => actions.navigate(view)}>
      <span>{label}</span>
      {badge !== undefined && <span className="badge">{badge}</span>}
    </button>
  );
}

function Sidebar() {
  const count = useLibraryStore((s) => (s.status === 'ready' ? s.libraryTotal : undefined));
  const active = useJobsStore((s) => s.queues.reduce((n, q) => n + q.running + q.counts.available + q.counts.retryable, 0));
  const hasTrack = useUiStore((s) => !!s.trackId);
  return (
    <nav className="sidebar" aria-label="Main">
      <NavItem view="library" label="Library" badge={count} />
      {hasTrack && <NavItem view="track" label="Track" />}
      <NavItem view="jobs" label="Jobs" badge={active || undefined} />
      <NavItem view="settings" label="Settings" />
      <NavItem view="system" label="System" />
      <div className="sidebar-foot muted small">Drop files anywhere, or paste links, to add them.</div>
    </nav>
  );
}

export function AppShell({ children }: { children: ReactNode }) {
  return (
    <div className="app">
      <Header />
      <div className="app-body">
        <Sidebar />
        <main className="app-main">{children}</main>
      </div>
      <StatusBar />
    </div>
  );
}
