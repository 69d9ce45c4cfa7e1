/**
 * The Electron host's entry (the only engine-side file, with `electron/`, that imports electron):
 * everything is in `electron/app.ts`, written so tests can fake the electron module.
 */
import { fileURLToPath } from 'node:url';
import { runDesktop } from './electron/app';

runDesktop({
  preload: fileURLToPath(new URL('../preload/index.cjs', import.meta.url)),
  rendererDir: fileURLToPath(new URL('../renderer/', import.meta.url)),
});
