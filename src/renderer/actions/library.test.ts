// @vitest-environment jsdom
import { beforeEach, describe, expect, it } from 'vitest';
import { resetStores, useLibraryStore, useNoticesStore, useSystemStore } from '../stores';
import { desktopInfo, browserInfo, fakeEngine, track } from '../test/fakeEngine';
import { isAudioName } from './files';
import { addFiles, addLinks, describeError, loadLibrary, splitLinks } from './library';

beforeEach(() => resetStores());

const wav = (name: string) => new File([new Uint8Array([1, 2, 3])], name, { type: 'audio/wav' });

describe('library actions', () => {
  it('loadLibrary fills the store', async () => {
    const engine = fakeEngine({ tracks: [track({ title: 'One' })] });
    await loadLibrary(engine.client);
    expect(useLibraryStore.getState()).toMatchObject({ status: 'ready', error: null });
    expect(useLibraryStore.getState().tracks.map((t) => t.title)).toEqual(['One']);
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
