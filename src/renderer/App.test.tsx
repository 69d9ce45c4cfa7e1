// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActions } from './actions';
import { ActionsProvider } from './actions/context';
import { App } from './App';
import { resetStores } from './stores';
import { fakeEngine, job, listing, track, type FakeEngine } from './test/fakeEngine';

function renderApp(engine: FakeEngine) {
  return render(
    <ActionsProvider actions={createActions(engine.client)}>
      <App />
    </ActionsProvider>,
  );
}

beforeEach(() => resetStores());
afterEach(() => cleanup());

describe('<App>', () => {
  it('shows an empty state that says what to do', async () => {
    renderApp(fakeEngine());
    expect(await screen.findByRole('heading', { name: 'Your library is empty' })).toBeTruthy();
    expect(screen.getByText(/Drop audio files or whole folders anywhere on this window/)).toBeTruthy();
    expect(screen.getByText(/Files are uploaded to the machine running sfa serve/)).toBeTruthy();
  });

  it('lists tracks with title, artist, duration, sample rate and status', async () => {
    const analysis = { source: 'mix' as const, bpm: 122.04, key: 'A minor', camelot: '8A', keyConfidence: 0.8, energy: 0.2, loudness: -9 };
    renderApp(fakeEngine({ tracks: [track({ title: 'Night Drive', artist: 'Kavinsky', duration: 261.4, sampleRate: 48000, analysis, stemCount: 4 }), track({ title: 'Link', sourceKind: 'youtube', status: 'pending', duration: null, sampleRate: null })] }));
    const row = (await screen.findByText('Night Drive')).closest('[role="row"]') as HTMLElement;
    const cells = within(row).getAllByRole('cell').map((c) => c.textContent);
    expect(cells).toEqual(['▸Night Drive4 stems', 'Kavinsky', '4:21', '122.04', '8AA minor', '2', '-9.0', 'File', 'done']);
    const pending = screen.getByText('Link').closest('[role="row"]') as HTMLElement;
    expect(within(pending).getAllByRole('cell').map((c) => c.textContent)).toEqual(['▸Link', 'Unknown artist', '—', '—', '—', '—', '—', 'YouTube', 'waiting for download']);
  });

  it('renders tag text as text, never as HTML', async () => {
    const { container } = renderApp(fakeEngine({ tracks: [track({ title: '<img src=x onerror=alert(1)>', artist: '<b>bold</b>' })] }));
    expect(await screen.findByText('<img src=x onerror=alert(1)>')).toBeTruthy();
    expect(screen.getByText('<b>bold</b>')).toBeTruthy();
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('[role="table"] b')).toBeNull();
  });

  it('sorts by a column when its header is clicked', async () => {
    const engine = fakeEngine({ tracks: [track({ title: 'B', duration: 10 }), track({ title: 'A', duration: 30 }), track({ title: 'C', duration: 20 })] });
    renderApp(engine);
    await screen.findByText('A');
    fireEvent.click(screen.getByRole('button', { name: /Time/ }));
    const titles = () => screen.getAllByRole('row').slice(1).map((r) => within(r).getAllByRole('cell')[0]!.textContent);
    // The engine sorts: the rows change when its reply comes.
    await waitFor(() => expect(titles()).toEqual(['▸B', '▸C', '▸A']));
    expect(engine.calls.filter((c) => c.name === 'library.list').at(-1)?.params).toMatchObject({ sort: { column: 'duration', dir: 'asc' } });
    fireEvent.click(screen.getByRole('button', { name: /Time/ }));
    await waitFor(() => expect(titles()).toEqual(['▸A', '▸C', '▸B']));
  });

  it('sorted by status, asks the engine again when a job changes (the order follows the jobs)', async () => {
    const engine = fakeEngine({ tracks: [track({ id: 'a', title: 'A' }), track({ id: 'b', title: 'B' })] });
    renderApp(engine);
    await screen.findByText('A');
    fireEvent.click(screen.getByRole('button', { name: /Status/ }));
    const lists = () => engine.calls.filter((c) => c.name === 'library.list' && (c.params as { sort?: { column: string } }).sort?.column === 'status').length;
    await waitFor(() => expect(lists()).toBe(1));
    await act(async () => engine.emit('job:changed', { job: job({ id: 9, trackId: 'b', state: 'executing', attempt: 1 }) }));
    await waitFor(() => expect(lists()).toBe(2));
  });

  it('refreshes the library on library:changed', async () => {
    const engine = fakeEngine();
    renderApp(engine);
    await screen.findByRole('heading', { name: 'Your library is empty' });
    engine.handlers['library.list'] = (params) => listing([track({ title: 'Arrived' })], params);
    await act(async () => engine.emit('library:changed', { ids: ['x'] }));
    expect(await screen.findByText('Arrived')).toBeTruthy();
  });

  it('shows a rejected link inline with its message, and clears it on edit', async () => {
    renderApp(fakeEngine());
    const box = await screen.findByLabelText('Spotify or YouTube links');
    fireEvent.change(box, { target: { value: 'https://bad.example/x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add links' }));
    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toBe('https://bad.example/x: Not a supported link: unsupported site.');
    expect(box.getAttribute('aria-invalid')).toBe('true');
    fireEvent.change(box, { target: { value: 'https://bad.example/y' } });
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('clears the box and confirms when links are accepted', async () => {
    renderApp(fakeEngine());
    const box = (await screen.findByLabelText('Spotify or YouTube links')) as HTMLInputElement;
    fireEvent.change(box, { target: { value: 'https://youtu.be/dQw4w9WgXcQ' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add links' }));
    expect(await screen.findByText('Added 1 track')).toBeTruthy();
    expect(box.value).toBe('');
  });

  it('shows a drop target while files are dragged over the window, and uploads what is dropped', async () => {
    const engine = fakeEngine();
    renderApp(engine);
    await screen.findByRole('heading', { name: 'Your library is empty' });
    const file = new File([new Uint8Array([1])], 'dropped.wav', { type: 'audio/wav' });
    const dataTransfer = { types: ['Files'], files: [file], items: [], dropEffect: 'none' };
    fireEvent.dragEnter(window, { dataTransfer });
    expect(screen.getByTestId('drop-overlay').textContent).toContain('Drop to add to your library');
    fireEvent.drop(window, { dataTransfer });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
    await waitFor(() => expect(engine.upload).toHaveBeenCalledWith(file, expect.any(Function)));
    expect(await screen.findByText('dropped.wav')).toBeTruthy();
  });

  it('ignores drags that carry no files (text, links)', async () => {
    renderApp(fakeEngine());
    await screen.findByRole('heading', { name: 'Your library is empty' });
    fireEvent.dragEnter(window, { dataTransfer: { types: ['text/plain'], files: [], items: [] } });
    expect(screen.queryByTestId('drop-overlay')).toBeNull();
  });

  it('shows the connection state, and reloads when the connection comes back', async () => {
    const engine = fakeEngine();
    renderApp(engine);
    expect(await screen.findByText('Connected')).toBeTruthy();
    act(() => engine.setConnection('reconnecting'));
    expect(screen.getByText('Reconnecting…')).toBeTruthy();
    engine.handlers['library.list'] = (params) => listing([track({ title: 'While away' })], params);
    act(() => engine.setConnection('open'));
    expect(await screen.findByText('While away')).toBeTruthy();
  });

  it('the System view runs the doctor and lists each check with version, path and detail', async () => {
    renderApp(fakeEngine());
    fireEvent.click(await screen.findByRole('button', { name: 'System' }));
    const table = await screen.findByRole('table', { name: 'System checks' });
    const rows = within(table).getAllByRole('row').slice(1).map((r) => within(r).getAllByRole('cell').map((c) => c.textContent));
    expect(rows).toEqual([
      ['✓', 'python', '3.11.7', '/venv/bin/python', ''],
      ['✕', 'torch', '—', '—', 'not installed'],
    ]);
    expect(screen.getByText('1 of 2 checks need attention')).toBeTruthy();
    expect(screen.getByText('Browser (sfa serve)')).toBeTruthy();
  });
});
