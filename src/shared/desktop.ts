/**
 * The desktop host's wire names, one definition for the Electron main process and the sandboxed
 * preload (which imports this small, zod-free module): the app's own origin and every IPC channel.
 */

/** The renderer is served from our own privileged scheme: `app://sfa/` (see electron/policy.ts). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'sfa';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;

/** Every IPC channel between preload and main; each handler checks its sender the same way. */
export const IPC_CHANNELS = {
  /** invoke: one contract request -> its Reply. */
  request: 'sfa:request',
  /** main -> renderer: a pushed contract event (name, payload). */
  event: 'sfa:event',
  /** send: drag a registered stem (or the source) out of the app to the desktop or a DAW. */
  startDrag: 'sfa:start-drag',
  /** invoke: show a registered file in the OS file manager -> boolean. */
  reveal: 'sfa:reveal',
  /** invoke: a native folder picker -> path | null. */
  chooseFolder: 'sfa:choose-folder',
} as const;

export type IpcChannel = (typeof IPC_CHANNELS)[keyof typeof IPC_CHANNELS];
