import type { HomePaths } from '../home';
import type { AnalysisRepository } from '../library/analyses';
import type { StemRepository } from '../library/stems';
import type { TrackRepository } from '../library/tracks';
import type { Logger } from '../log';
import type { ModelStore } from '../models';
import type { SidecarPool } from '../sidecar/pool';
import type { ClusterWork } from '../cluster/backend';
import type { GpuGate } from './gpu-gate';

/** What the workers need from the engine; passed in so tests can build workers on a temp home. */
export interface WorkerDeps {
  paths: HomePaths;
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  stems: StemRepository;
  /** `probe` (optional so older test setups still type-check) probes downloaded files. */
  sidecars: { analysis: SidecarPool; processing: SidecarPool; probe?: SidecarPool };
  logger: Logger;
  /** The model store: downloads a missing catalogue model before a separation (absent: no downloads). */
  models?: ModelStore;
  /** Limits concurrent separations on one GPU by its free memory. */
  gpu: GpuGate;
  /** The user's own Spotify app for spotdl (settings + the host's secret store), or null for spotdl's shared one. */
  spotify?: () => { clientId: string; clientSecret: string } | null;
  /** The cluster backend: whether the pools run cluster drivers now, and where jobs run (absent: always local). */
  cluster?: ClusterWork;
}
