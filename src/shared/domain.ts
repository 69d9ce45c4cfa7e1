import type { JobState } from './job-states';

/** Domain types shared by the engine, the hosts and the renderer. Pure data, no behaviour. */
import type { Device, StemFormat } from './separation';
import type { ErrorCode } from './errors';

export type SourceKind = 'file' | 'spotify' | 'youtube';

/**
 * A track's own state (its pipeline's progress lives in its jobs):
 * - pending: a link waiting to be downloaded
 * - ready: the audio file is in place and probed
 * - missing: the file was moved or deleted outside the app
 * - failed: the download or import failed for good (see `error`)
 */
import type { AnalysisResult } from './analysis';

export type TrackStatus = 'pending' | 'ready' | 'missing' | 'failed';

export interface Track {
  id: string;
  title: string;
  artist: string | null;
  album: string | null;
  sourceKind: SourceKind;
  /** The file path for imports and downloads once done; the canonical URL for links. */
  source: string;
  /** The audio file on disk, when there is one. */
  path: string | null;
  contentHash: string | null;
  duration: number | null;
  sampleRate: number | null;
  channels: number | null;
  codec: string | null;
  addedAt: string;
  status: TrackStatus;
  error: string | null;
  /** Link metadata (migration 005): set for Spotify/YouTube tracks, absent or null otherwise. */
  spotifyId?: string | null;
  youtubeId?: string | null;
  isrc?: string | null;
  /** Album art URL reported by the provider (not downloaded). */
  coverUrl?: string | null;
  /** Bytes of the downloaded file. */
  downloadSize?: number | null;
}

export type PipelineStep = 'separate' | 'analyze';
export const PIPELINE_STEPS: readonly PipelineStep[] = ['separate', 'analyze'];

export interface DoctorCheck {
  name: string;
  ok: boolean;
  version?: string;
  path?: string;
  detail?: string;
}

export interface DoctorReport {
  checks: DoctorCheck[];
}

export interface AddError {
  input: string;
  code: ErrorCode;
  message: string;
}

export interface AddResult {
  tracks: Pick<Track, 'id' | 'title' | 'source'>[];
  errors: AddError[];
  /** How many files the add handled (always given; with `summaryOnly`, `tracks` is empty and `errors` holds the first ones). */
  counts?: ImportCounts;
}

/** Files an import has met so far: each one ends imported, skipped (already in the library) or failed. */
export interface ImportCounts {
  seen: number;
  imported: number;
  skipped: number;
  failed: number;
}

/** An import's progress (`library:import`), a few times a second while it runs and once when it ends. */
export interface ImportProgress extends ImportCounts {
  /** One id per `library.add` call, so that two imports at once can be told apart. */
  importId: string;
  done: boolean;
}

/** Job states as in Oban: one list, in job-states.ts (the scheduler's README documents the transitions). */
export { JOB_STATES as JOB_STATE_NAMES, type JobState } from './job-states';

export interface JobInfo {
  id: number;
  queue: string;
  worker: string;
  state: JobState;
  attempt: number;
  maxAttempts: number;
  priority: number;
  trackId: string | null;
  /** Last progress snapshot (0..100), kept so a reconnecting UI resumes where it was. */
  progress: { percent: number; message: string | null } | null;
  errors: { attempt: number; at: string; error: string; code?: ErrorCode }[];
  /** True while the job waits for the jobs it depends on. */
  waiting: boolean;
  insertedAt: string;
  scheduledAt: string;
  attemptedAt: string | null;
  finishedAt: string | null;
  args: Record<string, unknown>;
  meta: Record<string, unknown>;
  /** What the worker returned on success (e.g. separation: model, device and why that device). */
  result: unknown;
  /** The cluster node the latest attempt runs or ran on (node ip, Ray node id); null: this machine. */
  node?: { ip: string; id: string } | null;
}

export interface QueueStats {
  name: string;
  limit: number;
  paused: boolean;
  running: number;
  counts: Record<JobState, number>;
}

/** A compact view of a track's analysis, for the library table (the full result is in `analysis`). */
export interface AnalysisSummary {
  source: 'mix' | 'stems';
  bpm: number | null;
  key: string | null;
  camelot: string | null;
  keyConfidence: number | null;
  energy: number | null;
  loudness: number | null;
}

export interface TrackDetail extends Track {
  /** The full analysis result (DESIGN.md 4.3), or null when not analysed yet. */
  analysis: AnalysisResult | null;
  /** The newest complete stem set: stem name -> file path. */
  stems: Record<string, string> | null;
  stemModel: string | null;
}

export interface TrackListItem extends Track {
  analysis: AnalysisSummary | null;
  stemCount: number;
}

/** User settings (settings.get / settings.set), stored in the database (migration 006). */
export interface Settings {
  /** The separation model the pipeline uses unless a request names one. */
  defaultModel: string;
  device: Device;
  /** Stem file format. */
  format: StemFormat;
  /** Run separation and analysis as soon as tracks are added (false: add only). */
  autoPipeline: boolean;
  /** Concurrency per queue (download, processing, analysis). */
  concurrency: Record<string, number>;
  /** Tool overrides (used from the next start): an ffmpeg binary. */
  toolPaths: { ffmpeg: string | null };
  /** Where the library lives (read-only). */
  libraryFolder: string;
  /** DJ software (`tags.write`, NI Stems): how a key is written, where energy goes, the stem.mp4 codec. */
  keyNotation: KeyNotation;
  energyField: 'comment' | 'grouping' | 'none';
  stemCodec: 'aac' | 'alac';
  /**
   * The user's own Spotify API app for spotdl (its shared one is often rate-limited for a whole
   * day): the client id, and whether a secret is stored — never the secret itself. `secretStore`:
   * `os` (the OS credential store, desktop app) or `file` (a file only the user can read).
   */
  spotify?: { clientId: string | null; clientSecretStored: boolean; secretStore: 'os' | 'file' };
  /**
   * Separation and analysis on a Ray cluster. `address`: the stored setting; `active`: the address
   * in use and where it came from (`--cluster`, env SFA_RAY_ADDRESS, the setting), null = this
   * machine. The token: from env SFA_RAY_TOKEN or the secret store; never returned.
   */
  cluster?: {
    address: string | null;
    active: { address: string; source: 'cli' | 'env' | 'setting' } | null;
    concurrency: { processing: number | null; analysis: number | null };
    threads: number | null;
    token: { stored: boolean; fromEnv: boolean; secretStore: 'os' | 'file' };
  };
}

/** How a key is written into tags: "Am" (standard), "8A" (Camelot), "1m" (Open Key). */
export type KeyNotation = 'standard' | 'camelot' | 'openkey';

/** A waveform overview: `peaks[channel][point] = [min, max]`. */
export interface Peaks {
  duration: number;
  channels: number;
  peaks: [number, number][][];
}
