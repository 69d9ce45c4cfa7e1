/**
 * Probing an import's files through the probe sidecar: `probe_many` probes a batch with one
 * ffmpeg run (starting ffmpeg costs more than reading a small file's header), each file getting
 * what `probe` would give it alone. Should a whole request fail (the sidecar died, timed out),
 * each of its files is probed alone, so that each still gets its own result or error.
 */
import { asErrorCode, toErrorInfo, type ErrorCode } from '../../shared/errors';
import type { SidecarPool } from '../sidecar/pool';

export interface ProbeResult {
  duration: number | null;
  sampleRate: number;
  channels: number;
  codec: string;
  tags: Record<string, string>;
}

export type ProbeOutcome = { ok: ProbeResult } | { error: { code: ErrorCode; message: string } };

/** Files per `probe_many` request (the sidecar accepts up to 64). */
export const PROBE_BATCH = 32;
const PROBE_TIMEOUT_MS = 60_000;

export async function probeFiles(pool: SidecarPool, paths: string[]): Promise<ProbeOutcome[]> {
  const requests: Promise<ProbeOutcome[]>[] = [];
  for (let i = 0; i < paths.length; i += PROBE_BATCH) requests.push(probeBatch(pool, paths.slice(i, i + PROBE_BATCH)));
  return (await Promise.all(requests)).flat();
}

type Reply = { ok: ProbeResult } | { error: { code: string; message: string } };

async function probeBatch(pool: SidecarPool, paths: string[]): Promise<ProbeOutcome[]> {
  if (paths.length === 1) return [await probeOne(pool, paths[0]!)];
  try {
    const reply = await pool.run<{ results: Reply[] }>('probe_many', { paths }, { timeoutMs: PROBE_TIMEOUT_MS + 2_000 * paths.length });
    if (Array.isArray(reply?.results) && reply.results.length === paths.length) {
      return reply.results.map((r) => ('ok' in r ? r : { error: { code: asErrorCode(r.error.code), message: r.error.message } }));
    }
  } catch {
    // the request as a whole failed: each file alone below, each with its own outcome
  }
  const outcomes: ProbeOutcome[] = [];
  for (const path of paths) outcomes.push(await probeOne(pool, path));
  return outcomes;
}

async function probeOne(pool: SidecarPool, path: string): Promise<ProbeOutcome> {
  try {
    return { ok: await pool.run<ProbeResult>('probe', { path }, { timeoutMs: PROBE_TIMEOUT_MS }) };
  } catch (error) {
    const info = toErrorInfo(error);
    return { error: { code: info.code, message: info.message } };
  }
}
