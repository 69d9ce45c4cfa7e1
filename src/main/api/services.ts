import type { Settings, TrackDetail } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import type { ClusterBackend } from '../cluster/backend';
import type { Db } from '../db/connection';
import type { EventBus } from '../events';
import type { HomePaths } from '../home';
import type { Scheduler } from '../jobs';
import type { AnalysisRepository } from '../library/analyses';
import type { Importer } from '../library/importer';
import type { PeaksCache } from '../library/peaks';
import type { Pipeline } from '../library/pipeline';
import type { StemRepository } from '../library/stems';
import type { TrackRepository } from '../library/tracks';
import type { Logger } from '../log';
import type { ModelStore } from '../models';
import type { Setup } from '../provision';
import type { SecretStore } from '../secrets';
import type { StoredSettings } from '../settings';
import type { SidecarPool } from '../sidecar/pool';

/** The engine's parts the request handlers work with (built by `createEngine`). */
export interface Services {
  host: 'electron' | 'serve' | 'cli';
  /** The app's version (Electron: app.getVersion(), else package.json). */
  version: string;
  canPassPaths: boolean;
  readonly: boolean;
  paths: HomePaths;
  db: Db;
  events: EventBus;
  logger: Logger;
  tracks: TrackRepository;
  analyses: AnalysisRepository;
  stems: StemRepository;
  importer: Importer;
  scheduler: Scheduler;
  sidecars: { probe: SidecarPool; analysis: SidecarPool; processing: SidecarPool };
  models: ModelStore;
  setup: Setup;
  /** Secrets kept apart from settings (the Spotify client secret). */
  secrets: SecretStore;
  settings: {
    /** What the engine applies now (stored values plus live queue limits). */
    current(): Settings;
    stored(): StoredSettings;
    /** Persist and apply. */
    save(next: StoredSettings): void;
  };
  /** Where separation and analysis run: this machine or a Ray cluster. */
  cluster: ClusterBackend;
  peaks: PeaksCache;
  /** Enqueues pipeline steps with the separation defaults (library/pipeline.ts). */
  pipeline: Pipeline;
  /** A track with its analysis and newest stem set (library/detail.ts). */
  trackDetail(id: string): TrackDetail;
  scaleQueue(queue: string, limit: number): void;
}

/** Requests that change the library are refused on an engine opened read-only. */
export function assertWritable(s: Pick<Services, 'readonly'>): void {
  if (s.readonly) throw new SfaError('UNSUPPORTED', 'The library is open read-only.');
}
