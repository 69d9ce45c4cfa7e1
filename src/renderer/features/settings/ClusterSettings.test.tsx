// @vitest-environment jsdom
/**
 * Settings → Cluster against a fake engine: an address the contract's pattern refuses never
 * leaves the form, the token is sent once and never shown, Off clears the address, and Ray's
 * Install button runs `cluster.install` with its progress and outcome from `cluster:install`.
 */
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterInstallStatus, SetupStatus } from '../../../shared/contract';
import type { Settings } from '../../../shared/domain';
import { createActions } from '../../actions';
import { ActionsProvider } from '../../actions/context';
import { resetStores, useSettingsStore, useSetupStore } from '../../stores';
import { defaultSettings, fakeEngine, type FakeEngine } from '../../test/fakeEngine';
import { ClusterSettings } from './ClusterSettings';

type Cluster = NonNullable<Settings['cluster']>;
const OFF: Cluster = { address: null, active: null, concurrency: { processing: null, analysis: null }, threads: null, token: { stored: false, fromEnv: false, secretStore: 'os' } };
const ABSENT: ClusterInstallStatus = { state: 'absent', installed: null, sizeMb: 80, progress: null, error: null };

function setupStatus(state: SetupStatus['state'], cluster: ClusterInstallStatus = ABSENT): SetupStatus {
  return { state, source: 'app', envDir: '/data/python/0123', lock: 'linux-cpu', accelerator: 'cpu', steps: [], downloads: [], error: null, progress: null, cluster };
}

/** A settings.set that merges the cluster block the way the engine does, the token kept apart. */
function withClusterSettings(engine: FakeEngine) {
  const sent: unknown[] = [];
  let current: Settings = { ...defaultSettings, cluster: OFF };
  engine.handlers['settings.set'] = (params) => {
    sent.push(params);
    const patch = (params as { cluster: { address?: string | null; token?: string | null; threads?: number | null; concurrency?: Cluster['concurrency'] } }).cluster;
    const was = current.cluster!;
    const address = patch.address === undefined ? was.address : patch.address;
    current = {
      ...current,
      cluster: {
        address,
        active: address ? { address, source: 'setting' } : null,
        threads: patch.threads === undefined ? was.threads : patch.threads,
        concurrency: { ...was.concurrency, ...patch.concurrency },
        token: { ...was.token, stored: patch.token === undefined ? was.token.stored : patch.token !== null },
      },
    };
    return current;
  };
  useSettingsStore.setState({ settings: current });
  return { sent };
}

function renderSection(engine: FakeEngine) {
  return render(
    <ActionsProvider actions={createActions(engine.client)}>
      <ClusterSettings />
    </ActionsProvider>,
  );
}

const saveButton = () => screen.getByRole('button', { name: 'Save cluster' }) as HTMLButtonElement;

beforeEach(() => resetStores());
afterEach(() => cleanup());

describe('<ClusterSettings>', () => {
  it('refuses an address outside ray://HOST:PORT and local heads in the form: nothing is sent', async () => {
    const engine = fakeEngine();
    const { sent } = withClusterSettings(engine);
    useSetupStore.setState({ status: setupStatus('ready') });
    renderSection(engine);
    expect(screen.getByRole('status', { name: 'Cluster in use' }).textContent).toBe('Off: work runs on this machine; token none.');
    for (const bad of ['http://head.internal:10001', 'ray://user@head:10001', 'ray://head:10001/path', '10.0.0.5:6379']) {
      fireEvent.change(screen.getByLabelText('Cluster address'), { target: { value: bad } });
      expect(saveButton().disabled).toBe(true);
      expect(screen.getByRole('alert', { name: 'Cluster settings problems' }).textContent).toMatch(/must be ray:\/\/HOST:PORT/);
      fireEvent.submit(saveButton().closest('form')!);
    }
    fireEvent.change(screen.getByLabelText('Cluster address'), { target: { value: 'ray://head.internal:10001' } });
    fireEvent.change(screen.getByLabelText('Cluster separations at once'), { target: { value: '0' } });
    expect(saveButton().disabled).toBe(true);
    fireEvent.change(screen.getByLabelText('Cluster token'), { target: { value: 'has space in it' } });
    expect(screen.getByRole('alert', { name: 'Cluster settings problems' }).textContent).toMatch(/token must be 8-4096 printable characters/);
    await new Promise((r) => setTimeout(r, 20));
    expect(sent).toEqual([]);
    expect(engine.calls.some((c) => c.name === 'settings.set')).toBe(false);
  });

  it('sends the address, overrides and token once; then shows only that a token is stored; Off clears the address', async () => {
    const engine = fakeEngine();
    const { sent } = withClusterSettings(engine);
    useSetupStore.setState({ status: setupStatus('ready', { ...ABSENT, state: 'ready', installed: '2.60.0' }) });
    const { container } = renderSection(engine);
    const token = 'tok-0123456789-secret';
    fireEvent.change(screen.getByLabelText('Cluster address'), { target: { value: ' ray://head.internal:10001 ' } });
    fireEvent.change(screen.getByLabelText('Cluster token'), { target: { value: token } });
    fireEvent.change(screen.getByLabelText('Cluster separations at once'), { target: { value: '8' } });
    fireEvent.click(saveButton());
    await waitFor(() => expect(screen.getByRole('status', { name: 'Cluster in use' }).textContent).toBe("Using ray://head.internal:10001 (from this setting); token stored in your system's credential store."));
    expect(sent).toEqual([{ cluster: { address: 'ray://head.internal:10001', token, threads: null, concurrency: { processing: 8, analysis: null } } }]);
    await waitFor(() => expect((screen.getByLabelText('Cluster token') as HTMLInputElement).value).toBe(''));
    expect((screen.getByLabelText('Cluster token') as HTMLInputElement).type).toBe('password');
    expect(container.innerHTML).not.toContain(token);
    expect(screen.getByText(/stored; type a new one to replace it/)).toBeTruthy();

    // saved again without typing a token: the stored one is kept (no token key sent)
    fireEvent.click(saveButton());
    await waitFor(() => expect(sent).toHaveLength(2));
    expect(sent[1]).toEqual({ cluster: { address: 'ray://head.internal:10001', threads: null, concurrency: { processing: 8, analysis: null } } });

    fireEvent.click(screen.getByRole('button', { name: 'Off' }));
    await waitFor(() => expect(screen.getByRole('status', { name: 'Cluster in use' }).textContent).toMatch(/^Off: work runs on this machine/));
    expect(sent[2]).toEqual({ cluster: { address: null } });
  });

  it('Ray missing: Install → progress → ready; a failure shows its next steps', async () => {
    const engine = fakeEngine();
    withClusterSettings(engine);
    let installs = 0;
    engine.handlers['cluster.install'] = () => (installs++, { ...ABSENT, state: 'installing', progress: { fraction: 0, message: 'Installing Ray (cluster support)…' } });
    // what the app loads on connecting (actions.start also subscribes to cluster:install)
    engine.handlers['setup.status'] = () => setupStatus('ready');
    engine.handlers['settings.get'] = () => ({ ...defaultSettings, cluster: OFF });
    useSetupStore.setState({ status: setupStatus('ready') });
    const actions = createActions(engine.client);
    const stop = actions.start();
    render(
      <ActionsProvider actions={actions}>
        <ClusterSettings />
      </ActionsProvider>,
    );
    await waitFor(() => expect(engine.calls.some((c) => c.name === 'setup.status')).toBe(true));
    expect(screen.getByRole('status', { name: 'Cluster support' }).textContent).toBe('Ray is not installed: work runs on this machine only.');
    fireEvent.click(screen.getByRole('button', { name: 'Install cluster support (Ray, about 80 MB)' }));
    await waitFor(() => expect(screen.getByRole('button', { name: 'Installing Ray…' })).toBeTruthy());
    expect(installs).toBe(1);
    act(() => engine.emit('cluster:install', { ...ABSENT, state: 'installing', progress: { fraction: 0.42, message: 'Downloading ray-2.60.0.whl (71.2 MB)' } }));
    expect(screen.getByRole('status', { name: 'Cluster support' }).textContent).toBe('Installing Ray: 42% — Downloading ray-2.60.0.whl (71.2 MB)');
    expect((screen.getByLabelText('Ray install progress') as HTMLProgressElement).value).toBeCloseTo(0.42);

    act(() => engine.emit('cluster:install', { ...ABSENT, state: 'failed', error: { message: 'Installing Ray failed: no space left on the disk (pip exit 1).', nextSteps: ['Free about 320 MB on the disk holding /data/python/0123, then install again.'], detail: 'OSError: [Errno 28] No space left on device' } }));
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toContain('The Ray install failed: Installing Ray failed: no space left on the disk');
    expect(alert.textContent).toContain('Free about 320 MB');
    expect(alert.textContent).toContain('[Errno 28]');

    fireEvent.click(screen.getByRole('button', { name: 'Install cluster support (Ray, about 80 MB)' }));
    await waitFor(() => expect(installs).toBe(2));
    act(() => engine.emit('cluster:install', { ...ABSENT, state: 'ready', installed: '2.60.0' }));
    expect(screen.getByRole('status', { name: 'Cluster support' }).textContent).toBe('Cluster support: Ray 2.60.0 is installed.');
    expect(screen.queryByRole('button', { name: /Install cluster support/ })).toBeNull();
    stop();
  });

  it('before the engine environment is set up: no Install button, it says why', () => {
    const engine = fakeEngine();
    withClusterSettings(engine);
    useSetupStore.setState({ status: setupStatus('needed') });
    renderSection(engine);
    expect(screen.getByRole('status', { name: 'Cluster support' }).textContent).toMatch(/finish the engine setup first/);
    expect(screen.queryByRole('button', { name: /Install cluster support/ })).toBeNull();
  });
});
