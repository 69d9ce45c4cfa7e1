// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActions } from '../../actions';
import { ActionsProvider } from '../../actions/context';
import { App } from '../../App';
import { resetStores, useUiStore } from '../../stores';
import { fakeEngine, track } from '../../test/fakeEngine';

beforeEach(() => resetStores());
afterEach(() => cleanup());

describe('DJ software menu', () => {
  it('sends the selection through the actions, shows progress and reports what was skipped', async () => {
    const engine = fakeEngine({ tracks: [track({ id: 't1', title: 'One' }), track({ id: 't2', title: 'Two' })] });
    let finish!: (v: unknown) => void;
    engine.handlers['export.rekordbox'] = () => new Promise((done) => (finish = done));
    engine.handlers['tags.write'] = () => ({ written: 1, files: ['/m/One.mp3'], skipped: [{ trackId: 't2', title: 'Two', code: 'PERMISSION_DENIED', reason: 'Two.mp3 is read-only' }] });
    render(
      <ActionsProvider actions={createActions(engine.client)}>
        <App />
      </ActionsProvider>,
    );
    await screen.findByText('One');
    act(() => useUiStore.setState({ selected: new Set(['t1', 't2']) }));
    const bar = screen.getByRole('toolbar', { name: 'Selected tracks' });

    fireEvent.click(within(bar).getByRole('menuitem', { name: 'Write tags' }));
    expect(await screen.findByText('Wrote tags into 1 file')).toBeTruthy();
    expect(await screen.findByText('Two.mp3 is read-only')).toBeTruthy();
    expect(engine.calls.find((c) => c.name === 'tags.write')?.params).toEqual({ ids: ['t1', 't2'] });

    fireEvent.click(within(bar).getByRole('menuitem', { name: 'Export to rekordbox…' }));
    await screen.findByRole('status', { name: 'DJ export progress' });
    act(() => engine.emit('dj:progress', { task: 'export.rekordbox', done: 1, total: 2 }));
    expect(screen.getByRole('status', { name: 'DJ export progress' }).textContent).toContain('1/2');
    expect((within(bar).getByRole('menuitem', { name: 'Write tags' }) as HTMLButtonElement).disabled).toBe(true);
    // The browser host names no path: the engine writes into the library's exports folder.
    expect(engine.calls.find((c) => c.name === 'export.rekordbox')?.params).toEqual({ ids: ['t1', 't2'] });
    await act(async () => finish({ file: '/data/exports/sfa-rekordbox.xml', written: 2, skipped: [] }));
    expect(await screen.findByText('Exported 2 tracks')).toBeTruthy();
    expect(screen.queryByRole('status', { name: 'DJ export progress' })).toBeNull();
  });
});
