import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SfaError, discardsJob, toErrorInfo } from '../../shared/errors';
import { SEPARATION_DEFAULTS, type Device, type StemFormat } from '../../shared/separation';
import { defineWorker } from '../jobs';
import type { SidecarDevice } from '../sidecar/protocol';
import { isUnreachable, workBackoff } from '../cluster/placement';
import { runPlaced, waitForCluster } from '../cluster/run';
import type { WorkerDeps } from './deps';
import { attemptTempDir } from './temp-dirs';

/** Separation settings a job carries; everything but `device` and `repo` identifies the output. */
export interface SeparationSettings {
  model: string;
  device?: Device;
  format?: StemFormat;
  shifts?: number;
  overlap?: number;
  segment?: number;
  twoStems?: string;
  instrumental?: boolean;
  /** A local demucs model repository (a folder of `{sig}.th` + `{name}.yaml`). */
  repo?: string;
  /** "auto" (bf16 on a CPU that runs it natively), "exact" (float32, the CLI's arithmetic), "bf16" or "int8" (opt-in, not exact). */
  precision?: 'auto' | 'exact' | 'bf16' | 'int8';
}

export interface SeparateArgs extends SeparationSettings {
  trackId: string;
  [key: string]: string | number | boolean | undefined;
}

interface Fallback {
  from: string;
  to: string;
  fromSegment: number;
  toSegment: number;
  reason: string;
}

interface SeparationResult {
  model: string;
  device: string;
  deviceReason?: string;
  fallbacks?: Fallback[];
  stems: Record<string, { path: string; size: number; duration: number | null; format: string }>;
  [key: string]: unknown;
}

const SEPARATION_TIMEOUT_MS = 3 * 60 * 60_000;
const MAX_ATTEMPTS = 3;

/**
 * What makes two separations produce the same files (device and repo location do not). A run
 * that had to degrade (a smaller segment or another device after running out of memory) gets its
 * own key, so a later request with the same settings computes full-quality stems again instead of
 * reusing these.
 */
export function separationKey(args: SeparateArgs, fallbacks: readonly Fallback[] = []): string {
  const identity: Record<string, unknown> = {
    model: args.model,
    format: args.format ?? SEPARATION_DEFAULTS.format,
    shifts: args.shifts ?? SEPARATION_DEFAULTS.shifts,
    overlap: args.overlap ?? SEPARATION_DEFAULTS.overlap,
    segment: args.segment ?? null,
    twoStems: args.twoStems ?? null,
    instrumental: Boolean(args.instrumental),
  };
  // Only a non-default precision joins the identity: keys of stems made before it existed stay valid.
  if (args.precision && args.precision !== 'auto') identity.precision = args.precision;
  if (fallbacks.length) identity.degraded = fallbacks.map((f) => `${f.to}@${f.toSegment}`);
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
}

/** The sidecar's progress message when a job leaves the accelerator (runner.py). */
const LEFT_GPU = /retrying on cpu/;

/** The model's folder: a local repo given by the job, else the model store's when it holds it. */
function modelRepo(deps: WorkerDeps, args: SeparateArgs): string | undefined {
  if (args.repo) return args.repo;
  return existsSync(join(deps.paths.models, `${args.model}.yaml`)) ? deps.paths.models : undefined;
}

/**
 * What picks and prepares the model in the sidecar (model, device, its folder, precision): the
 * same for a job's `separate` request and for the `warm` that loads it ahead of the job
 * (separation-warmup.ts), so that the warmed model is the one the job finds.
 */
export function modelParams(deps: WorkerDeps, args: SeparateArgs): Record<string, string> {
  const repo = modelRepo(deps, args);
  return {
    model: args.model,
    device: args.device ?? SEPARATION_DEFAULTS.device,
    ...(repo ? { repo } : {}),
    ...(args.precision ? { precision: args.precision } : {}),
  };
}

/** Free bytes on the GPU a job will use, asked of an idle processing sidecar (null: unknown). */
async function currentFreeMemory(deps: WorkerDeps, devices: readonly SidecarDevice[]): Promise<number | null> {
  const cuda = devices.find((d) => d.type === 'cuda');
  if (!cuda) return null;
  const answer = await deps.sidecars.processing.run<{ devices: { index: number; freeMemory: number }[] }>('gpu_memory', {
    index: cuda.index ?? 0,
  });
  return answer.devices[0]?.freeMemory ?? null;
}

/**
 * ProcessingWorker (queue `processing`, priority 2, 3 attempts): Demucs (or the DSP separator)
 * in a warm sidecar. The sidecar writes into a job-private temporary folder; the stems are moved
 * into `<home>/media/stems/<trackId>/<model>-<key>/` and registered in the transaction that
 * completes the job, so a cancel, a crash or a failure never registers a partial set. A second
 * run with the same settings reuses the registered stems.
 */
export function processingWorker(deps: WorkerDeps) {
  return defineWorker<SeparateArgs>({
    name: 'separate',
    queue: 'processing',
    priority: 2,
    maxAttempts: MAX_ATTEMPTS,
    backoff: (job, error, { random }) => workBackoff(job.attempt, error, random),
    timeout: SEPARATION_TIMEOUT_MS,
    async perform(job, ctx) {
      const args = job.args;
      const track = deps.tracks.get(args.trackId);
      if (!track) return { discard: new SfaError('NOT_FOUND', 'The track was removed from the library.') };
      if (!track.path) return { cancel: new SfaError('NOT_FOUND', 'The track has no audio file (its download did not finish).') };
      if (!existsSync(track.path)) return { discard: new SfaError('FILE_NOT_FOUND', `The audio file is missing: ${track.path}`) };

      const key = separationKey(args);
      const existing = deps.stems.find(track.id, args.model, key);
      if (existing.length && existing.every((s) => existsSync(s.path))) {
        ctx.progress(100, 'stems already separated with these settings');
        return { ok: { reused: true, model: args.model, stems: Object.fromEntries(existing.map((s) => [s.stem, s.path])) } };
      }

      const finalDir = join(deps.paths.stems, track.id, `${args.model}-${key}`);
      const tempDir = attemptTempDir(finalDir, job.id, job.attempt);
      if (!args.repo && deps.models) {
        // A catalogue model missing from the store is downloaded first (MODEL_NOT_INSTALLED when it cannot be).
        try {
          await deps.models.ensure(args.model, {
            signal: ctx.signal,
            onProgress: (p) => ctx.progress(p.percent, `downloading model ${args.model} ${Math.floor(p.percent)}%`),
          });
        } catch (error) {
          if (discardsJob(toErrorInfo(error).code)) return { discard: error };
          throw error;
        }
      }
      // One GPU runs as many separations as its memory allows; the others wait here. The gate is
      // for this machine's GPUs: on a cluster, Ray places each actor on a GPU of its own.
      const onCluster = deps.cluster?.active('processing') ?? false;
      const devices = onCluster || args.device === 'cpu' || args.model === 'dsp' ? [] : ((await deps.sidecars.processing.warm()).devices ?? []);
      const releaseGpu = await deps.gpu.acquire(devices, {
        model: args.model,
        freeMemory: () => currentFreeMemory(deps, devices),
        signal: ctx.signal,
        onWait: () => ctx.progress(0, 'waiting for GPU memory (another separation is running)'),
      });
      ctx.progress(0, `separating with ${args.model}`);
      let result: SeparationResult;
      try {
        ({ result } = await runPlaced<SeparationResult>(
          deps.sidecars.processing,
          deps.cluster,
          job.id,
          'separate',
          {
            path: track.path,
            outDir: tempDir,
            ...modelParams(deps, args),
            format: args.format ?? SEPARATION_DEFAULTS.format,
            shifts: args.shifts ?? SEPARATION_DEFAULTS.shifts,
            overlap: args.overlap ?? SEPARATION_DEFAULTS.overlap,
            ...(args.segment !== undefined ? { segment: args.segment } : {}),
            ...(args.twoStems ? { twoStems: args.twoStems } : {}),
            ...(args.instrumental ? { instrumental: true } : {}),
          },
          {
            signal: ctx.signal,
            timeoutMs: SEPARATION_TIMEOUT_MS,
            onProgress: (fraction, message) => {
              if (LEFT_GPU.test(message)) releaseGpu(); // the rest runs on the CPU: free the slot
              ctx.progress(fraction * 100, message);
            },
          },
        ));
      } catch (error) {
        rmSync(tempDir, { recursive: true, force: true });
        if (isUnreachable(error)) return waitForCluster(deps.cluster, job, ctx, MAX_ATTEMPTS, error);
        const info = toErrorInfo(error);
        if (discardsJob(info.code)) return { discard: error };
        throw error;
      } finally {
        releaseGpu();
      }

      const fallbacks = result.fallbacks ?? [];
      const storedKey = fallbacks.length ? separationKey(args, fallbacks) : key;
      const storedDir = fallbacks.length ? join(deps.paths.stems, track.id, `${args.model}-${storedKey}`) : finalDir;
      const stems = Object.entries(result.stems).map(([stem, file]) => ({
        trackId: track.id,
        jobId: job.id,
        model: args.model,
        optionsKey: storedKey,
        stem,
        path: join(storedDir, basename(file.path)),
        size: file.size,
        duration: file.duration,
        format: file.format,
        device: result.device,
      }));
      ctx.onComplete(() => {
        // Inside the completing transaction: if the rename or the insert fails, the job is not
        // completed and retries; a crash after the rename but before the commit leaves an
        // unregistered folder that the retry replaces.
        rmSync(storedDir, { recursive: true, force: true });
        renameSync(tempDir, storedDir);
        deps.stems.register(stems);
      });
      return {
        ok: {
          model: result.model,
          device: result.device,
          deviceReason: result.deviceReason ?? null,
          degraded: fallbacks.length > 0,
          stems: Object.fromEntries(stems.map((s) => [s.stem, s.path])),
        },
      };
    },
  });
}
