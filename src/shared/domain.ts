/** Domain types shared by the engine, the hosts and the renderer. Pure data, no behaviour. */

export type SourceKind = 'file' | 'spotify' | 'youtube';

/**
 * A track's own state (its pipeline's progress lives in its jobs):
 * - pending: a link waiting to be downloaded
 * - ready: the audio file is in place and probed
 * - missing: the file was moved or deleted outside the app
 * - failed: the download or import failed for good (see `error`)
 */
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
  code: string;
  message: string;
}

export interface AddResult {
  tracks: Pick<Track, 'id' | 'title' | 'source'>[];
  errors: AddError[];
}
