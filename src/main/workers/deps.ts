import type { HomePaths } from '../home';
import type { AnalysisRepository } from '../library/analyses';
import type { StemRepository } from '../library/stems';
import type { TrackRepository } from '../library/tracks';
import type { Logger } from '../log';
import type { ModelStore } from '../models';
import type { SidecarPool } from '../sidecar/pool';
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
}

/** Sidecar error codes that no retry can fix: the job is discarded at once with the message. */
export const PERMANENT_CODES = new Set(['NOT_AUDIO', 'FILE_NOT_FOUND', 'BAD_REQUEST', 'TOO_SHORT', 'SILENT', 'DECODE_FAILED', 'MODEL_NOT_FOUND', 'MODEL_UNAVAILABLE', 'MODEL_NOT_INSTALLED', 'DEVICE_UNAVAILABLE', 'SIDECAR_UNAVAILABLE',
  // A full disk or a read-only folder does not fix itself in the seconds a retry backs off: the
  // job stops with the message (which names the folder) and the user retries once it is fixed.
  'DISK_FULL', 'PERMISSION_DENIED']);
