// @vitest-environment jsdom
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { LIBRARY_PAGE, loadedTracks, resetStores, rowAt, useLibraryStore, useNoticesStore, useSystemStore, useUiStore } from '../stores';
import { desktopInfo, browserInfo, fakeEngine, track } from '../test/fakeEngine';
import { isAudioName } from './files';
import { addFiles, addLinks, COUNT_AFTER_MS, describeError, loadLibrary, selectRow, showRows, splitLinks } from './library';

beforeEach(() => resetStores());

const wav = (name: string) => new File([new Uint8Array([1, 2, 3])], name, { type: 'audio/wav' });

describe('library actions', () => {
  it('loadLibrary fills the store', async () => {
    const engine = fakeEngine({ tracks: [track({ title: 'One' })] });
    await loadLibrary(engine.client);
    expect(useLibraryStore.getState()).toMatchObject({ status: 'ready', error: null });
    expect(loadedTracks(useLibraryStore.getState()).map((t) => t.title)).toEqual(['One']);
    expect(useLibraryStore.getState()).toMatchObject({ total: 1, libraryTotal: 1 });
  });

  it('loads the window the table shows, page by page with the page past each end, and drops pages of an older sort', async () => {
    const tracks = Array.from({ length: 1000 }, (_, i) => track({ id: `t${i}`, title: `Song ${i}` }));
    const engine = fakeEngine({ tracks });
    await loadLibrary(engine.client);
    expect(useLibraryStore.getState()).toMatchObject({ total: 1000, totalExact: true, libraryTotal: 1000 });
    expect(Object.keys(useLibraryStore.getState().pages)).toEqual(['0']);
    const pageOf = (row: number) => Math.floor(row / LIBRARY_PAGE);
    await showRows(engine.client, 590, 620);
    const expected = [0, ...new Set([pageOf(590) - 1, pageOf(590), pageOf(619), pageOf(619) + 1])];
    expect(Object.keys(useLibraryStore.getState().pages).map(Number).sort((a, b) => a - b)).toEqual(expected);
    expect(rowAt(useLibraryStore.getState(), 605)?.title).toBe('Song 605');
    expect(engine.calls.filter((c) => c.name === 'library.list').map((c) => c.params)).toEqual(
      expected.map((page) => ({ sort: { column: 'addedAt', dir: 'desc' }, offset: page * LIBRARY_PAGE, limit: LIBRARY_PAGE, quickCount: true })),
    );
    // A reply for the old sort arriving after the sort changed is not shown under the new one.
    const slow = showRows(engine.client, 900, 920);
    useUiStore.setState({ sort: { key: 'title', dir: 1 } });
    await loadLibrary(engine.client);
    await slow;
    expect(Object.keys(useLibraryStore.getState().pages)).toEqual([String(pageOf(900))]);
    expect(useLibraryStore.getState().queryKey).toContain('"title"');
  });

  it('keeps the pages near the rows shown while scrolling far', async () => {
    const tracks = Array.from({ length: 5000 }, (_, i) => track({ id: `t${i}`, title: `Song ${i}` }));
    const engine = fakeEngine({ tracks });
    await loadLibrary(engine.client);
    for (let row = 0; row < 5000; row += 20) await showRows(engine.client, row, row + 20);
    const pages = Object.keys(useLibraryStore.getState().pages).map(Number);
    expect(pages).toContain(pageOf(4990));
    expect(Math.min(...pages)).toBeGreaterThan(pageOf(4990) - 40);
    expect(rowAt(useLibraryStore.getState(), 10)).toBeUndefined();
    function pageOf(row: number) {
      return Math.floor(row / LIBRARY_PAGE);
    }
  });

  it('shows a common word\u2019s rows with the engine\u2019s estimate, then counts them once the search stands', async () => {
    const tracks = Array.from({ length: 300 }, (_, i) => track({ id: `t${i}`, title: i % 3 ? `Night ${i}` : `Day ${i}` }));
    const engine = fakeEngine({ tracks });
    const exactList = engine.handlers['library.list']!;
    engine.handlers['library.list'] = (params) => {
      const reply = exactList(params) as { total: number };
      return (params as { search?: string }).search ? { ...reply, total: 190, totalExact: false } : reply;
    };
    await loadLibrary(engine.client);
    useUiStore.setState((s) => ({ filter: { ...s.filter, search: 'nig' } }));
    await loadLibrary(engine.client);
    expect(useLibraryStore.getState()).toMatchObject({ total: 190, totalExact: false });
    // Typing on before the count: only the search that stood is counted.
    useUiStore.setState((s) => ({ filter: { ...s.filter, search: 'night' } }));
    await loadLibrary(engine.client);
    // A page's estimate does not replace the total shown.
    await showRows(engine.client, 100, 120);
    expect(useLibraryStore.getState().total).toBe(190);
    await vi.waitFor(() => expect(useLibraryStore.getState()).toMatchObject({ total: 200, totalExact: true }), { timeout: COUNT_AFTER_MS * 4 });
    expect(engine.calls.filter((c) => c.name === 'library.count').map((c) => (c.params as { search: string }).search)).toEqual(['night']);
  });

  it('shift-click selects every row of the range, those not loaded asked by range of the engine', async () => {
    const tracks = Array.from({ length: 1000 }, (_, i) => track({ id: `t${i}`, title: `Song ${i}`, addedAt: new Date(1e12 + i).toISOString() }));
    const engine = fakeEngine({ tracks });
    await loadLibrary(engine.client);
    const idAt = (i: number) => `t${999 - i}`; // newest first
    await selectRow(engine.client, idAt(2), 2, { shift: false, toggle: false });
    await selectRow(engine.client, idAt(5), 5, { shift: true, toggle: false });
    expect([...useUiStore.getState().selected].sort()).toEqual(['t994', 't995', 't996', 't997'].sort());
    expect(engine.calls.some((c) => c.name === 'library.ids')).toBe(false);
    // Rows 2..750: only 0..199 are loaded.
    await selectRow(engine.client, idAt(750), 750, { shift: true, toggle: false });
    const selected = useUiStore.getState().selected;
    expect(selected.size).toBe(749);
    expect(selected.has(idAt(2)) && selected.has(idAt(400)) && selected.has(idAt(750)) && !selected.has(idAt(751))).toBe(true);
    expect(engine.calls.filter((c) => c.name === 'library.ids').map((c) => c.params)).toEqual([{ sort: { column: 'addedAt', dir: 'desc' }, offset: 2, limit: 749 }]);
    // A new sort moves the rows: shift-click starts afresh instead of extending from the old place.
    useUiStore.setState({ sort: { key: 'title', dir: 1 } });
    await loadLibrary(engine.client);
    expect(useUiStore.getState().anchor).toBeNull();
    await selectRow(engine.client, 't5', 10, { shift: true, toggle: false });
    expect([...useUiStore.getState().selected]).toEqual(['t5']);
  });

  it('loadLibrary keeps the error message when the engine fails', async () => {
    const engine = fakeEngine();
    engine.handlers['library.list'] = () => {
      throw Object.assign(new Error('The database is locked.'), { code: 'INTERNAL' });
    };
    await loadLibrary(engine.client);
    expect(useLibraryStore.getState()).toMatchObject({ status: 'error', error: 'The database is locked.' });
  });

  it('addLinks sends each pasted link and returns the rejections without an error toast', async () => {
    const engine = fakeEngine();
    const result = await addLinks(engine.client, ' https://youtu.be/dQw4w9WgXcQ\nhttps://bad.example/x ');
    expect(engine.calls.find((c) => c.name === 'library.add')?.params).toEqual({ inputs: ['https://youtu.be/dQw4w9WgXcQ', 'https://bad.example/x'] });
    expect(result?.errors).toEqual([{ input: 'https://bad.example/x', code: 'INVALID_LINK', message: 'Not a supported link: unsupported site.' }]);
    const notices = useNoticesStore.getState().notices;
    expect(notices.map((n) => n.kind)).toEqual(['success']);
  });

  it('in the browser, uploads the files and adds their server paths, naming them by file name in errors', async () => {
    useSystemStore.setState({ info: browserInfo });
    const engine = fakeEngine();
    await addFiles(engine.client, { files: [wav('a.wav'), wav('bad.wav')], entries: [] });
    expect(engine.upload).toHaveBeenCalledTimes(2);
    expect(engine.calls.find((c) => c.name === 'library.add')?.params).toEqual({
      inputs: ['/data/media/uploads/u1/a.wav', '/data/media/uploads/u1/bad.wav'],
    });
    const error = useNoticesStore.getState().notices.find((n) => n.kind === 'error');
    expect(error?.details).toEqual(['bad.wav: Not a supported link: unsupported site.']);
    expect(useLibraryStore.getState().importing).toBeNull();
  });

  it('in Electron, passes the files’ paths without uploading', async () => {
    useSystemStore.setState({ info: desktopInfo });
    const engine = fakeEngine({ info: desktopInfo });
    await addFiles(engine.client, { files: [wav('a.wav')], entries: [] });
    expect(engine.upload).not.toHaveBeenCalled();
    expect(engine.calls.find((c) => c.name === 'library.add')?.params).toEqual({ inputs: ['/local/a.wav'] });
  });

  it('reports a failed upload with its message and still adds the others', async () => {
    useSystemStore.setState({ info: browserInfo });
    const engine = fakeEngine();
    engine.upload.mockImplementationOnce(async () => {
      throw new Error('big.wav: The file is larger than the upload limit.');
    });
    await addFiles(engine.client, { files: [wav('big.wav'), wav('ok.wav')], entries: [] });
    expect(engine.calls.find((c) => c.name === 'library.add')?.params).toEqual({ inputs: ['/data/media/uploads/u1/ok.wav'] });
    const error = useNoticesStore.getState().notices.find((n) => n.kind === 'error');
    expect(error?.title).toBe('Could not upload 1 file');
    expect(error?.details).toEqual(['big.wav: The file is larger than the upload limit.']);
  });

  it('names each rejected input once, by its own name', () => {
    const e = (input: string, message: string) => ({ input, code: 'NOT_AUDIO' as const, message });
    expect(describeError(e('/up/u1/a.wav', '/up/u1/a.wav is not audio'), 'a.wav')).toBe('a.wav is not audio');
    expect(describeError(e('/up/u1/a.wav', 'a.wav is not audio'), 'a.wav')).toBe('a.wav is not audio');
    expect(describeError(e('https://x.example', 'Not a supported link.'), 'https://x.example')).toBe('https://x.example: Not a supported link.');
  });

  it('splits pasted text on whitespace and recognises audio names', () => {
    expect(splitLinks('a  b\n\nc\t')).toEqual(['a', 'b', 'c']);
    expect(isAudioName('Song.FLAC')).toBe(true);
    expect(isAudioName('cover.jpg')).toBe(false);
    expect(isAudioName('.wav')).toBe(false);
  });
});
