import { describe, expect, it } from 'vitest';
import { SfaError } from '../../shared/errors';
import { fakeEngine } from '../test/fakeEngine';
import { createClient } from './client';
import { desktopMediaBase } from './index';
import type { Transport } from './transport';

describe('createClient', () => {
  it('resolves with the result of an ok Reply', async () => {
    const engine = fakeEngine();
    await expect(engine.client.request('system.info')).resolves.toMatchObject({ host: 'serve' });
    expect(engine.calls).toEqual([{ name: 'system.info', params: undefined }]);
  });

  it('throws an SfaError with the code and message of a failed Reply', async () => {
    const engine = fakeEngine();
    engine.handlers['library.get'] = () => {
      throw Object.assign(new Error('No track with id x.'), { code: 'NOT_FOUND' });
    };
    const error = await engine.client.request('library.get', { id: 'x' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SfaError);
    expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'No track with id x.' });
  });

  it('delivers pushed events until unsubscribed', () => {
    const engine = fakeEngine();
    const seen: unknown[] = [];
    const off = engine.client.on('library:changed', (p) => seen.push(p));
    engine.emit('library:changed', { ids: ['a'] });
    off();
    engine.emit('library:changed', { ids: ['b'] });
    expect(seen).toEqual([{ ids: ['a'] }]);
  });

  it('media URLs: relative where the page and the media share an origin, app://sfa from the desktop dev server', () => {
    const transport = { files: {} } as unknown as Transport;
    expect(desktopMediaBase('app:')).toBe('');
    expect(desktopMediaBase('http:')).toBe('app://sfa');
    const dev = createClient(transport, { mediaBase: desktopMediaBase('http:') });
    expect(dev.mediaUrl('t1', 'vocals')).toBe('app://sfa/media/t1/vocals');
    const served = createClient(transport);
    expect(served.mediaUrl('t 1', 'source', { download: true })).toBe('/media/t%201/source?download=1');
  });
});
