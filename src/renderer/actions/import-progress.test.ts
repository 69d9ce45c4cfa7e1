// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import type { AddResult } from '../../shared/domain';
import { resetStores, useLibraryStore, useSystemStore } from '../stores';
import { desktopInfo, fakeEngine } from '../test/fakeEngine';
import { createActions } from '.';

beforeEach(() => resetStores());

const progress = (seen: number, imported: number, skipped: number, failed: number, done = false) => ({ importId: 'i1', seen, imported, skipped, failed, done });

describe('import progress', () => {
  it('shows the engine’s counts on the drop’s own activity while the add runs, and clears it at the end', async () => {
    useSystemStore.setState({ info: desktopInfo });
    const engine = fakeEngine({ info: desktopInfo });
    const actions = createActions(engine.client);
    const stop = actions.start();
    let finish!: (r: AddResult) => void;
    engine.handlers['library.add'] = () => new Promise<AddResult>((r) => (finish = r));
    const folder = new File([new Uint8Array([1])], 'Music');

    // an import started elsewhere opens no bar here
    engine.emit('library:import', progress(10, 10, 0, 0));
    expect(useLibraryStore.getState().importing).toBeNull();

    const adding = actions.addFiles({ files: [folder], entries: [] });
    await new Promise((r) => setTimeout(r, 0));
    engine.emit('library:import', progress(640, 600, 38, 2));
    expect(useLibraryStore.getState().importing).toMatchObject({ label: 'Importing: 600 added, 38 already in the library, 2 failed', unit: 'items', done: 640 });

    engine.emit('library:import', progress(700, 660, 38, 2, true));
    finish({ tracks: [], errors: [] });
    await adding;
    expect(useLibraryStore.getState().importing).toBeNull();
    stop();
  });
});
