// @vitest-environment jsdom
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActions } from '../actions';
import { ActionsProvider } from '../actions/context';
import { App } from '../App';
import { resetStores, useUiStore } from '../stores';
import { fakeEngine, job, queue, track, type FakeEngine } from '../test/fakeEngine';
import { VirtualList } from './VirtualList';

beforeEach(() => resetStores());
afterEach(() => cleanup());

function renderApp(engine: FakeEngine) {
  return render(
    <ActionsProvider actions={createActions(engine.client)}>
      <App />
    </ActionsProvider>,
  );
}

describe('<VirtualList>', () => {
  it('renders only the visible rows of 10,000', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `item ${i}`);
    const { container } = render(<VirtualList count={items.length} itemAt={(i) => items[i]} rowHeight={20} initialHeight={200} overscan={2} renderRow={(s) => <span>{s}</span>} />);
    const rows = container.querySelectorAll('.vrow');
    expect(rows.length).toBeLessThanOrEqual(15);
    expect(screen.getByText('item 0')).toBeTruthy();
    expect(screen.queryByText('item 500')).toBeNull();
    const scroller = screen.getByTestId('vlist');
    scroller.scrollTop = 10_000;
    fireEvent.scroll(scroller);
    expect(screen.getByText('item 500')).toBeTruthy();
    expect(screen.queryByText('item 0')).toBeNull();
    expect((container.querySelector('.vlist-body') as HTMLElement).style.height).toBe('200000px');
  });
});

describe('<VirtualList> while scrolling', () => {
  it('renders only the rows a scroll brings in, not the rows that stay', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `item ${i}`);
    const rendered: number[] = [];
    const renderRow = (s: string, i: number) => {
      rendered.push(i);
      return <span>{s}</span>;
    };
    render(<VirtualList count={items.length} itemAt={(i) => items[i]} rowHeight={20} initialHeight={200} overscan={2} renderRow={renderRow} />);
    expect(rendered).toEqual(Array.from({ length: 13 }, (_, i) => i));
    const scroller = screen.getByTestId('vlist');
    rendered.length = 0;
    scroller.scrollTop = 7; // within the first row: nothing to render
    fireEvent.scroll(scroller);
    expect(rendered).toEqual([]);
    scroller.scrollTop = 100; // five rows down: the five that come into the window
    fireEvent.scroll(scroller);
    expect(rendered.sort((a, b) => a - b)).toEqual([13, 14, 15, 16, 17]);
  });
});

describe('<VirtualList> row elements', () => {
  it('refills the rows a scroll leaves with the rows it brings in: no element built or moved', () => {
    const items = Array.from({ length: 10_000 }, (_, i) => `item ${i}`);
    const { container } = render(<VirtualList count={items.length} itemAt={(i) => items[i]} rowHeight={20} initialHeight={200} overscan={2} renderRow={(s) => <span>{s}</span>} />);
    const scroller = screen.getByTestId('vlist');
    scroller.scrollTop = 400; // past the overscan, so the window is full size
    fireEvent.scroll(scroller);
    const before = [...container.querySelectorAll('.vrow')];
    scroller.scrollTop = 500; // five rows down
    fireEvent.scroll(scroller);
    const after = [...container.querySelectorAll('.vrow')];
    expect(after).toEqual(before); // the same elements, in the same DOM order
    // each shows the row its top says, and the window is rows 23-37
    const shown = after.map((el) => [Number.parseInt((el as HTMLElement).style.top, 10) / 20, el.textContent] as const);
    for (const [index, text] of shown) expect(text).toBe(`item ${index}`);
    expect(shown.map(([index]) => index).sort((a, b) => a - b)).toEqual(Array.from({ length: 15 }, (_, i) => 23 + i));
  });
});

describe('<VirtualList> over rows still loading', () => {
  it('shows blank rows for the missing ones and reports the range it shows', () => {
    const ranges: [number, number][] = [];
    const { container } = render(
      <VirtualList count={100_000} itemAt={(i) => (i < 5 ? `item ${i}` : undefined)} onRange={(a, b) => ranges.push([a, b])} rowHeight={20} initialHeight={200} overscan={2} renderRow={(s) => <span>{s}</span>} />,
    );
    expect(screen.getByText('item 4')).toBeTruthy();
    expect(container.querySelectorAll('.vrow.pending').length).toBeGreaterThan(0);
    const scroller = screen.getByTestId('vlist');
    scroller.scrollTop = 1_000_000;
    fireEvent.scroll(scroller);
    expect(ranges[0]).toEqual([0, 13]);
    expect(ranges.at(-1)).toEqual([49_998, 50_013]);
  });
});

describe('library with 10,000 tracks', () => {
  it('mounts only visible rows and filters by search', async () => {
    const tracks = Array.from({ length: 10_000 }, (_, i) => track({ id: `t${i}`, title: `Song ${i}`, addedAt: new Date(1e12 + i).toISOString() }));
    const engine = fakeEngine({ tracks });
    renderApp(engine);
    await screen.findByText('Song 9999');
    expect(screen.getAllByRole('row').length).toBeLessThan(60);
    fireEvent.change(screen.getByLabelText('Search the library'), { target: { value: 'song 1234' } });
    expect(await screen.findByText('Song 1234')).toBeTruthy();
    expect(screen.getByTestId('library-count').textContent).toBe('1 of 10000 tracks');
    // Only windows travel: the first load, the search and its unfiltered count, none of 10,000 rows.
    expect(engine.calls.every((c) => c.name !== 'library.list' || ((c.params as { limit?: number }).limit ?? Infinity) <= 1000)).toBe(true);
  });

  it('selects rows and offers bulk actions', async () => {
    const engine = fakeEngine({ tracks: [track({ id: 'a', title: 'A' }), track({ id: 'b', title: 'B' }), track({ id: 'c', title: 'C' })] });
    engine.handlers['pipeline.run'] = () => ({ jobIds: [1, 2] });
    renderApp(engine);
    fireEvent.click(await screen.findByText('A'));
    fireEvent.click(screen.getByText('C'), { shiftKey: true });
    expect(useUiStore.getState().selected.size).toBe(3);
    const bar = screen.getByRole('toolbar', { name: 'Selected tracks' });
    fireEvent.click(within(bar).getByRole('button', { name: 'Re-analyse' }));
    await screen.findByText(/Analysis queued for 3 tracks/);
    expect(engine.calls.find((c) => c.name === 'pipeline.run')?.params).toMatchObject({ steps: ['analyze'] });
  });
});

describe('jobs panel', () => {
  it('reacts to job:progress and job:changed, and cancels', async () => {
    const running = job({ id: 7, trackId: 't1', state: 'executing', attempt: 1, progress: { percent: 10, message: 'separating with dsp' } });
    const engine = fakeEngine({ tracks: [track({ id: 't1', title: 'Long One' })], jobs: [running], queues: [queue('processing', { running: 1 })] });
    engine.handlers['jobs.cancel'] = () => ({ ...running, state: 'cancelled' });
    renderApp(engine);
    await screen.findByText('Long One');
    expect(await screen.findByText('separating 10%')).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: /^Jobs/ }));
    const item = await screen.findByRole('listitem', { name: /Job 7 separate Long One/ });
    expect(within(item).getByText('attempt 1/3')).toBeTruthy();
    await act(async () => engine.emit('job:progress', { id: 7, trackId: 't1', percent: 55, message: 'chunk 5/9' }));
    expect(within(item).getByText('55%')).toBeTruthy();
    expect(within(item).getByText('chunk 5/9')).toBeTruthy();
    expect(within(item).getByRole('progressbar').getAttribute('aria-valuenow')).toBe('55');
    fireEvent.click(within(item).getByRole('button', { name: 'Cancel' }));
    expect(await within(item).findByText('cancelled')).toBeTruthy();
    await act(async () => engine.emit('job:changed', { job: { ...running, state: 'available', attempt: 1, progress: null } }));
    expect(within(item).getByText('queued')).toBeTruthy();
  });

  it('names each job’s track in the Jobs view, also tracks the library table has not loaded', async () => {
    const tracks = Array.from({ length: 1000 }, (_, i) => track({ id: `t${i}`, title: `Song ${i}`, addedAt: new Date(1e12 + i).toISOString() }));
    // Newest first: t0 is the last row, far outside the first window of 200.
    const engine = fakeEngine({ tracks, jobs: [job({ id: 3, trackId: 't0', state: 'executing', attempt: 1 }), job({ id: 4, trackId: 'gone', state: 'available', args: { url: 'https://example.com/x' } })] });
    renderApp(engine);
    await screen.findByText('Song 999');
    expect(screen.queryByText('Song 0')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: /^Jobs/ }));
    expect(await screen.findByRole('listitem', { name: /Job 3 separate Song 0/ })).toBeTruthy();
    expect(screen.getByRole('listitem', { name: /Job 4 separate https:\/\/example.com\/x/ })).toBeTruthy();
    expect(engine.calls.filter((c) => c.name === 'library.titles').map((c) => c.params)).toEqual([{ ids: ['t0', 'gone'] }]);
    // A job for another unloaded track, arriving live, is named too.
    await act(async () => engine.emit('job:changed', { job: job({ id: 5, trackId: 't1', state: 'available' }) }));
    expect(await screen.findByRole('listitem', { name: /Job 5 separate Song 1/ })).toBeTruthy();
  });
});
