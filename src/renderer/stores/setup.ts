import { create } from 'zustand';
import type { SetupProgress, SetupStatus } from '../../shared/contract';

export interface SetupState {
  /** The engine's view of the first-run setup; null until loaded. */
  status: SetupStatus | null;
  /** The latest `setup:progress` event of the run in progress. */
  progress: SetupProgress | null;
  /** A request that failed (the engine unreachable...), not a setup step failure (that is status.error). */
  requestError: string | null;
  /** The setup screen was dismissed for this session ("later": DSP separation works without Python models). */
  dismissed: boolean;
  /** Ticked on the setup screen: install the optional cluster support (Ray) once the engine is ready, without asking again. */
  clusterWanted: boolean;
  /** A `cluster.install` request that failed (the environment not set up...), not a failed install (that is status.cluster.error). */
  clusterRequestError: string | null;
  diagnostics: { state: 'idle' | 'loading' | 'copied' | 'shown' | 'error'; text: string | null; error: string | null };
}

export const initialSetupState: SetupState = {
  status: null,
  progress: null,
  requestError: null,
  dismissed: false,
  clusterWanted: false,
  clusterRequestError: null,
  diagnostics: { state: 'idle', text: null, error: null },
};

/** First-run setup and diagnostics state. No effects here (actions/setup.ts). */
export const useSetupStore = create<SetupState>()(() => ({ ...initialSetupState, diagnostics: { ...initialSetupState.diagnostics } }));
