import { createHash } from 'node:crypto';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { SfaError, discardsJob, toErrorInfo } from '../../shared/errors';
import { SEPARATION_DEFAULTS, type Device, type StemFormat } from '../../shared/separation';
import { defineWorker } from '../jobs';
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
}

export interface SeparateArgs extends SeparationSettings {
  trackId: string;
  [key: string]: string | number | boolean | undefined;
}

interface SeparationResult {
  model: string;
  device: string;
  deviceReason?: string;
  stems: Record<string, { path: string; size: number; duration: number | null; format: string }>;
  [key: string]: unknown;
}

const SEPARATION_TIMEOUT_MS = 3 * 60 * 60_000;

/** What makes two separations produce the same files (device and repo location do not). */
export function separationKey(args: SeparateArgs): string {
  const identity = {
    model: args.model,
    format: args.format ?? SEPARATION_DEFAULTS.format,
    shifts: args.shifts ?? SEPARATION_DEFAULTS.shifts,
    overlap: args.overlap ?? SEPARATION_DEFAULTS.overlap,
    segment: args.segment ?? null,
    twoStems: args.twoStems ?? null,
    instrumental: Boolean(args.instrumental),
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
}

/** The model's folder: a local repo given by the job, else the model store's when it holds it. */
function modelRepo(deps: WorkerDeps, args: SeparateArgs): string | undefined {
  if (args.repo) return args.repo;
  return existsSync(join(deps.paths.models, `${args.model}.yaml`)) ? deps.paths.models : undefined;
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
    maxAttempts: 3,
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
      // One GPU runs as many separations as its free memory allows; the others wait here.
      const devices = args.device === 'cpu' || args.model === 'dsp' ? [] : ((await deps.sidecars.processing.warm()).devices ?? []);
      const releaseGpu = await deps.gpu.acquire(devices, {
        signal: ctx.signal,
        onWait: () => ctx.progress(0, 'waiting for GPU memory (another separation is running)'),
      });
      ctx.progress(0, `separating with ${args.model}`);
      let result: SeparationResult;
      try {
        result = await deps.sidecars.processing.run<SeparationResult>(
          'separate',
          {
            path: track.path,
            outDir: tempDir,
            model: args.model,
            device: args.device ?? SEPARATION_DEFAULTS.device,
            format: args.format ?? SEPARATION_DEFAULTS.format,
            shifts: args.shifts ?? SEPARATION_DEFAULTS.shifts,
            overlap: args.overlap ?? SEPARATION_DEFAULTS.overlap,
            ...(args.segment !== undefined ? { segment: args.segment } : {}),
            ...(args.twoStems ? { twoStems: args.twoStems } : {}),
            ...(args.instrumental ? { instrumental: true } : {}),
            ...(modelRepo(deps, args) ? { repo: modelRepo(deps, args) } : {}),
          },
          { signal: ctx.signal, timeoutMs: SEPARATION_TIMEOUT_MS, onProgress: (fraction, message) => ctx.progress(fraction * 100, message) },
        );
      } catch (error) {
        rmSync(tempDir, { recursive: true, force: true });
        const info = toErrorInfo(error);
        if (discardsJob(info.code)) return { discard: error };
        throw error;
      } finally {
        releaseGpu();
      }

      const stems = Object.entries(result.stems).map(([stem, file]) => ({
        trackId: track.id,
        jobId: job.id,
        model: args.model,
        optionsKey: key,
        stem,
        path: join(finalDir, basename(file.path)),
        size: file.size,
        duration: file.duration,
        format: file.format,
        device: result.device,
      }));
      ctx.onComplete(() => {
        // Inside the completing transaction: if the rename or the insert fails, the job is not
        // completed and retries; a crash after the rename but before the commit leaves an
        // unregistered folder that the retry replaces.
        rmSync(finalDir, { recursive: true, force: true });
        renameSync(tempDir, finalDir);
        deps.stems.register(stems);
      });
      return {
        ok: { model: result.model, device: result.device, deviceReason: result.deviceReason ?? null, stems: Object.fromEntries(stems.map((s) => [s.stem, s.path])) },
      };
    },
  });
}
