// @vitest-environment jsdom
/** The first-run setup screen against a fake engine: the provisioning steps faked at the contract boundary. */
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SetupProgress, SetupStatus } from '../../../shared/contract';
import { createActions } from '../../actions';
import { ActionsProvider } from '../../actions/context';
import { App } from '../../App';
import { resetStores } from '../../stores';
import { useSetupStore } from '../../stores/setup';
import { fakeEngine, type FakeEngine } from '../../test/fakeEngine';

const STEPS = [
  ['python', 'Python runtime'],
  ['venv', 'Virtual environment'],
  ['packages', 'Python packages (torch, demucs, librosa, spotdl, yt-dlp)'],
  ['models', 'Separation models from the offline folder'],
  ['verify', 'Check the engine (doctor)'],
] as const;

function status(overrides: Partial<SetupStatus> = {}, done: string[] = []): SetupStatus {
  return {
    state: 'needed',
    source: 'app',
    envDir: '/data/python/0123456789abcdef',
    lock: 'linux-cuda',
    accelerator: 'cuda',
    steps: STEPS.map(([name, title]) => ({ name, title, state: done.includes(name) ? 'done' : 'pending' })),
    downloads: [
      { name: 'Python 3.11.17 runtime', sizeMb: 30 },
      { name: 'Python packages for linux-cuda (torch, demucs, librosa, spotdl, yt-dlp)', sizeMb: 3300 },
    ],
    error: null,
    progress: null,
    cluster: { state: 'absent', installed: null, sizeMb: 80, progress: null, error: null },
    ...overrides,
  };
}

/** A fake provisioner behind `setup.status` / `setup.start`: the test drives progress and outcome. */
function withSetup(engine: FakeEngine, initial: SetupStatus) {
  let current = initial;
  const starts: unknown[] = [];
  engine.handlers['setup.status'] = () => current;
  engine.handlers['setup.start'] = (params) => {
    starts.push(params);
    current = { ...current, state: 'running', error: null };
    return current;
  };
  engine.handlers['models.list'] = () => ({ dir: '/data/models', models: [] });
  return {
    starts,
    set(next: SetupStatus) {
      current = next;
    },
    progress(p: SetupProgress) {
      act(() => engine.emit('setup:progress', p));
    },
  };
}

function renderApp(engine: FakeEngine) {
  return render(
    <ActionsProvider actions={createActions(engine.client)}>
      <App />
    </ActionsProvider>,
  );
}

beforeEach(() => resetStores());
afterEach(() => cleanup());

describe('<SetupScreen>', () => {
  it('says what will be downloaded and how big, then shows each step progressing to ready', async () => {
    const engine = fakeEngine();
    const setup = withSetup(engine, status());
    renderApp(engine);
    expect(await screen.findByRole('heading', { name: 'Set up the separation engine' })).toBeTruthy();
    expect(screen.getByText(/Python packages for linux-cuda .*about 3\.3 GB/)).toBeTruthy();
    expect(screen.getByText(/About 3\.3 GB in total/)).toBeTruthy();
    expect(screen.getByText(/The DSP separator/)).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Download and install' }));
    await waitFor(() => expect(setup.starts).toEqual([{}]));
    expect(await screen.findByRole('button', { name: 'Installing…' })).toBeTruthy();

    setup.progress({ step: 'packages', fraction: 0.4, overall: 0.48, message: 'Downloading torch-2.13.0+cu128 (2.1 GB)', bytes: 850_000_000 });
    const packages = document.querySelector('[data-step="packages"]') as HTMLElement;
    expect(packages.textContent).toContain('40%');
    expect(packages.textContent).toContain('Downloading torch');
    expect(screen.getByText(/Overall 48% — 850\.0 MB downloaded/)).toBeTruthy();

    setup.set(status({ state: 'ready', downloads: [] }, STEPS.map(([n]) => n)));
    setup.progress({ step: 'verify', fraction: 1, overall: 1, message: 'Setup complete' });
    await waitFor(() => expect(screen.queryByRole('heading', { name: 'Set up the separation engine' })).toBeNull());
  });

  it('cluster support (Ray) is a box to tick, not a dialog: once the setup is ready the app opens at once and the install starts in the background', async () => {
    const engine = fakeEngine();
    const setup = withSetup(engine, status({ state: 'running' }, ['python', 'venv']));
    const installs: unknown[] = [];
    engine.handlers['cluster.install'] = (params) => (installs.push(params), { state: 'installing', installed: null, sizeMb: 80, progress: { fraction: 0, message: 'Installing Ray (cluster support)…' }, error: null });
    renderApp(engine);
    expect(await screen.findByRole('heading', { name: 'Set up the separation engine' })).toBeTruthy();
    // no install button before the environment is ready (Ray installs into it): an optional box
    expect(screen.queryByRole('button', { name: /Install cluster support/ })).toBeNull();
    const box = screen.getByRole('checkbox', { name: /Also install cluster support \(Ray, about 80 MB\) once the engine is ready/ }) as HTMLInputElement;
    expect(box.checked).toBe(false);
    fireEvent.click(box);
    expect(box.checked).toBe(true);
    expect(installs).toEqual([]);

    setup.set(status({ state: 'ready', downloads: [] }, STEPS.map(([n]) => n)));
    setup.progress({ step: 'verify', fraction: 1, overall: 1, message: 'Setup complete' });
    await waitFor(() => expect(installs).toEqual([{}]));
    // nothing to click through: no setup dialog of any kind is left over the app
    expect(screen.queryByRole('dialog')).toBeNull();
    // the install's state is where cluster support lives: Settings → Cluster
    act(() => engine.emit('cluster:install', { state: 'installing', installed: null, sizeMb: 80, progress: { fraction: 0.6, message: 'Installing the packages…' }, error: null }));
    expect(useSetupStore.getState().status?.cluster).toMatchObject({ state: 'installing', progress: { fraction: 0.6 } });
    expect(useSetupStore.getState().clusterWanted).toBe(false);
  });

  it('without the box ticked, the setup ends straight in the app and installs no Ray', async () => {
    const engine = fakeEngine();
    const setup = withSetup(engine, status({ state: 'running' }, ['python', 'venv']));
    const installs: unknown[] = [];
    engine.handlers['cluster.install'] = (params) => (installs.push(params), status().cluster);
    renderApp(engine);
    expect(await screen.findByRole('checkbox', { name: /Also install cluster support/ })).toBeTruthy();
    setup.set(status({ state: 'ready', downloads: [] }, STEPS.map(([n]) => n)));
    setup.progress({ step: 'verify', fraction: 1, overall: 1, message: 'Setup complete' });
    await waitFor(() => expect(screen.queryByRole('dialog')).toBeNull());
    expect(installs).toEqual([]);
  });

  it('shows a failed step with its next steps and resumes from it', async () => {
    const engine = fakeEngine();
    const failed = status(
      {
        state: 'failed',
        error: { step: 'packages', message: 'Installing the Python packages failed (pip exit 1).', nextSteps: ['Check the internet connection and retry: finished downloads are kept.'], detail: 'ERROR: No matching distribution found for torch' },
      },
      ['python', 'venv'],
    );
    failed.steps[2]!.state = 'failed';
    const setup = withSetup(engine, failed);
    renderApp(engine);
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Setup stopped at “Python packages (torch, demucs, librosa, spotdl, yt-dlp)”');
    expect(alert.textContent).toContain('Check the internet connection and retry');
    expect(alert.textContent).toContain('No matching distribution found for torch');
    expect((document.querySelector('[data-step="python"]') as HTMLElement).textContent).toContain('done');
    expect((document.querySelector('[data-step="packages"]') as HTMLElement).textContent).toContain('failed');
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(setup.starts).toHaveLength(1));
  });

  it('offers resume after an interruption and an offline install from a folder (desktop)', async () => {
    const engine = fakeEngine({ info: { version: '0.1.0', home: '/data', host: 'electron', canPassPaths: true } });
    const setup = withSetup(engine, status({}, ['python', 'venv']));
    renderApp(engine);
    expect(await screen.findByRole('button', { name: 'Resume setup' })).toBeTruthy();
    fireEvent.click(await screen.findByRole('button', { name: 'Offline install…' }));
    fireEvent.change(screen.getByPlaceholderText('/media/usb/sfa-offline'), { target: { value: '/media/usb/offline' } });
    fireEvent.click(screen.getByRole('button', { name: 'Install from folder' }));
    await waitFor(() => expect(setup.starts).toEqual([{ offlineDir: '/media/usb/offline' }]));
  });

  it('stays out of the way when the environment is ready', async () => {
    const engine = fakeEngine();
    withSetup(engine, status({ state: 'ready', downloads: [] }, STEPS.map(([n]) => n)));
    renderApp(engine);
    await waitFor(() => expect(engine.calls.some((c) => c.name === 'setup.status')).toBe(true));
    expect(screen.queryByRole('heading', { name: 'Set up the separation engine' })).toBeNull();
  });
});

describe('Copy diagnostics', () => {
  it('asks system.diagnostics and shows the text where the clipboard is refused', async () => {
    const engine = fakeEngine();
    withSetup(engine, status({ state: 'ready', downloads: [] }, STEPS.map(([n]) => n)));
    engine.handlers['system.doctor'] = () => ({ checks: [] });
    engine.handlers['system.diagnostics'] = () => ({ text: '# Sound Forge Alchemy diagnostics\nok   python 3.11.7' });
    const { container } = renderApp(engine);
    await waitFor(() => expect(engine.calls.some((c) => c.name === 'setup.status')).toBe(true));
    const { useUiStore } = await import('../../stores');
    act(() => useUiStore.setState({ view: 'system' }));
    fireEvent.click(await screen.findByRole('button', { name: 'Copy diagnostics' }));
    const text = await waitFor(() => {
      const area = container.querySelector('.diagnostics-text textarea') as HTMLTextAreaElement | null;
      const copied = screen.queryByText(/Copied to the clipboard/);
      expect(area ?? copied).toBeTruthy();
      return area?.value ?? 'copied';
    });
    expect(text === 'copied' || text.includes('# Sound Forge Alchemy diagnostics')).toBe(true);
  });
});
