import { SfaError } from '../../shared/errors';
import type { SfaBridge } from '../../preload/bridge';
import type { Transport } from './transport';

/** The Electron transport: the preload's `window.sfa`. Always connected; files have paths. */
export function createIpcTransport(bridge: SfaBridge): Transport {
  return {
    desktop: {
      startDrag: (trackId, stem) => bridge.startDrag(trackId, stem),
      reveal: (trackId, stem) => bridge.reveal(trackId, stem),
      chooseFolder: () => bridge.chooseFolder(),
    },
    send: (name, params) => bridge.request(name, params),
    on: (event, callback) => bridge.on(event, callback),
    onConnection(callback) {
      callback('open');
      return () => {};
    },
    files: {
      pathOf(file) {
        try {
          return bridge.getPathForFile(file) || null;
        } catch {
          return null;
        }
      },
      upload: () => Promise.reject(new SfaError('UNSUPPORTED', 'This file has no path on disk; save it to a folder and add it from there.')),
    },
  };
}
