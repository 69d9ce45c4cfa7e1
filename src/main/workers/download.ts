import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import { SfaError, toErrorInfo } from '../../shared/errors';
import { recogniseLink, type RecognisedLink } from '../../shared/links';
import { defaultBackoff, defineWorker, exponentialBackoff, type BackoffFn, type PerformContext, type Scheduler , type WorkerOptions } from '../jobs';
import type { ProbeResult } from '../library/importer';
import { completeDownload, type SongMetadata } from '../library/link-tracks';
import type { TrackRepository } from '../library/tracks';
import { denoPath, toolPath } from '../system/doctor';
import type { WorkerDeps } from './deps';
import {
  failureSummary,
  parseSpotdlLine,
  parseSpotdlSongs,
  parseYtDlpLine,
  youtubeSong,
  YTDLP_META_TEMPLATE,
  YTDLP_PROGRESS_TEMPLATE,
  type ToolEvent,
} from './tool-output';
import { bundledFfmpeg, runTool, type ToolExit } from './tool-process';

export interface DownloadArgs {
  trackId: string;
  /** The canonical URL (src/shared/links.ts); re-validated before any process starts. */
  url: string;
  [key: string]: unknown;
}

/** Limits of one tool run. Defaults suit real downloads; tests shorten them through the env. */
export interface ToolLimits {
  /** Kill the tool when it prints nothing this long (spotdl --simple-tui is silent while a song downloads). */
  stallMs: number;
  /** Kill the tool after this long in any case. */
  timeoutMs: number;
  /** SIGTERM, then SIGKILL after this. */
  killGraceMs: number;
}

function envSeconds(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v * 1000 : fallback;
}

/** `SFA_DOWNLOAD_STALL_SECONDS` (default 300), `SFA_DOWNLOAD_TIMEOUT_SECONDS` (3600), `SFA_DOWNLOAD_KILL_GRACE_SECONDS` (3). */
export function toolLimits(overrides: Partial<ToolLimits> = {}): ToolLimits {
  return {
    stallMs: envSeconds('SFA_DOWNLOAD_STALL_SECONDS', 300_000),
    timeoutMs: envSeconds('SFA_DOWNLOAD_TIMEOUT_SECONDS', 3_600_000),
    killGraceMs: envSeconds('SFA_DOWNLOAD_KILL_GRACE_SECONDS', 3000),
    ...overrides,
  };
}

/**
 * Rate limits back off `60 * 2^(attempt-1)` s (DESIGN.md 4.2: 60, 120, 240 ...); everything else
 * uses the seed's default. The tool's own Retry-After (up to a day has been seen) is ignored: the
 * job comes back sooner and, if still limited, backs off further.
 */
export const linkBackoff: BackoffFn<DownloadArgs> = (job, error, { random }) =>
  toErrorInfo(error).code === 'RATE_LIMITED' ? exponentialBackoff(job.attempt) : defaultBackoff(job.attempt, random);

/** What every job on the download queue shares: the seed's DownloadWorker options, unique per URL for 300 s. */
export const LINK_JOB_OPTIONS = {
  queue: 'download',
  priority: 1,
  maxAttempts: 3,
  unique: { period: 300, keys: ['url'] },
  backoff: linkBackoff,
} satisfies Partial<WorkerOptions<DownloadArgs>>;

/** Checks a job's URL again (job rows are data, not trust): it must be a canonical link of the expected types. */
export function validatedLink(url: unknown, types: RecognisedLink['type'][]): RecognisedLink {
  const link = recogniseLink(typeof url === 'string' ? url : '');
  if (!link.ok) throw new SfaError('INVALID_LINK', `Not a supported link: ${link.reason}.`);
  if (link.canonical !== url) throw new SfaError('INVALID_LINK', `Not a canonical link: ${String(url)}`);
  if (!types.includes(link.type)) throw new SfaError('INVALID_LINK', `Expected a ${types.join(' or ')} link, got a ${link.type} link.`);
  return link;
}

/**
 * The start every link job shares: its URL checked again, its library track still there (back to
 * `pending` if an earlier attempt failed it); or the `{discard}` that ends the job.
 */
export function linkJobStart(
  deps: WorkerDeps,
  args: { url: string; trackId: string },
  types: RecognisedLink['type'][],
  missing: string,
): { link: RecognisedLink; track: NonNullable<ReturnType<WorkerDeps['tracks']['get']>> } | { discard: unknown } {
  let link: RecognisedLink;
  try {
    link = validatedLink(args.url, types);
  } catch (error) {
    return { discard: error };
  }
  const track = deps.tracks.get(args.trackId);
  if (!track) return { discard: new SfaError('NOT_FOUND', missing) };
  if (track.status === 'failed') deps.tracks.setStatus(track.id, 'pending');
  return { link, track };
}

/** The ffmpeg the tools are told to use, or the `{discard}` when there is none. */
export async function toolFfmpeg(): Promise<{ ffmpeg: string } | { discard: SfaError }> {
  try {
    return { ffmpeg: await bundledFfmpeg() };
  } catch (error) {
    return { discard: new SfaError('SIDECAR_UNAVAILABLE', `The bundled ffmpeg cannot be found: ${toErrorInfo(error).message}`) };
  }
}

/** Environment for the tools: no colours, wide lines (rich wraps at 80 columns without a TTY). */
export function toolEnv(): NodeJS.ProcessEnv {
  return { ...process.env, NO_COLOR: '1', TERM: 'dumb', COLUMNS: '400', PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' };
}

/** What yt-dlp prints when it finds no JavaScript runtime for YouTube (yt-dlp >= 2025.11.12). */
const NO_JS_RUNTIME = /No supported JavaScript runtime could be found/;

/** The one message a user gets when YouTube downloads cannot work for want of deno. */
export function jsRuntimeMissing(deno: string, why: string): SfaError {
  return new SfaError(
    'TOOL_MISSING',
    `YouTube downloads (and Spotify downloads, whose audio comes from YouTube Music) need the JavaScript runtime deno, and ${why} (${deno}). ` +
      'Fix: run the setup again (in a checkout: `npm run setup`) to install the pinned deno and yt-dlp-ejs; `sfa doctor` shows the js-runtime check.',
  );
}

/**
 * Spotify's limit is per API app: a wait longer than this (spotdl's shared app is often limited for
 * a day: "Retry will occur after: 86400") reschedules the job for then instead of using up retries.
 */
export const LONG_RATE_LIMIT_S = 600;
/** The longest we reschedule for, whatever the tool says. */
export const MAX_RATE_LIMIT_WAIT_S = 2 * 86_400;

/** spotdl's `--yt-dlp-args` is split with Python's shlex: quote for it (POSIX rules, also for Windows paths). */
export function shlexQuote(value: string): string {
  return `'${value.replaceAll("'", `'"'"'`)}'`;
}

/** spotdl options for the user's own Spotify app: in the process's arguments only, never in job rows or logs. */
export function spotifyCredentialArgs(credentials: { clientId: string; clientSecret: string } | null | undefined): string[] {
  return credentials ? ['--client-id', credentials.clientId, '--client-secret', credentials.clientSecret] : [];
}

/** What one tool run saw: its exit plus the events that decide the outcome. */
export interface ToolOutcome {
  exit: ToolExit;
  /** yt-dlp said it has no JavaScript runtime. */
  noJsRuntime: boolean;
  rateLimit: number | null;
  songErrors: { message: string; permanent: boolean }[];
  errorLines: string[];
  files: string[];
  meta: Record<string, unknown> | null;
  stdout: string[];
}

export async function runLinkTool(
  tool: 'spotdl' | 'yt-dlp',
  args: string[],
  ctx: Pick<PerformContext, 'signal' | 'progress'>,
  limits: ToolLimits,
  progressScale = 1,
): Promise<ToolOutcome> {
  const parse = tool === 'spotdl' ? parseSpotdlLine : parseYtDlpLine;
  const outcome: Omit<ToolOutcome, 'exit'> = { noJsRuntime: false, rateLimit: null, songErrors: [], errorLines: [], files: [], meta: null, stdout: [] };
  let exit: ToolExit;
  try {
    exit = await runTool({
      command: toolPath(tool),
      args,
      env: toolEnv(),
      signal: ctx.signal,
      ...limits,
      onLine(line, stream) {
        if (stream === 'stdout') outcome.stdout.push(line);
        if (NO_JS_RUNTIME.test(line)) outcome.noJsRuntime = true;
        const event: ToolEvent | null = parse(line);
        if (!event) return;
        switch (event.type) {
          case 'progress':
            ctx.progress(event.percent * progressScale, event.message);
            return;
          case 'rate-limit':
            // spotipy would now sleep Retry-After seconds (86400 has been seen): stop it now.
            outcome.rateLimit = event.retryAfter;
            return 'stop';
          case 'song-error':
            outcome.songErrors.push(event);
            return;
          case 'error-line':
            outcome.errorLines.push(event.message);
            return;
          case 'file':
            outcome.files.push(event.path);
            return;
          case 'meta':
            outcome.meta = event.data;
            return;
        }
      },
    });
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    if (e.code === 'ENOENT' || e.code === 'EACCES') {
      throw new SfaError('TOOL_MISSING', `${tool} cannot be started (${e.code}) at ${toolPath(tool)}: run \`npm install\` or set ${tool === 'spotdl' ? 'SFA_SPOTDL_BIN' : 'SFA_YTDLP_BIN'}.`);
    }
    throw error;
  }
  return { exit, ...outcome };
}

/**
 * Turns a finished tool run into the job's fate: throws (retry), or returns a `{discard}` for
 * failures no retry can fix, or null when the run succeeded.
 */
export function judgeToolRun(
  tool: string,
  run: ToolOutcome,
  ctx: Pick<PerformContext, 'signal'> & Partial<Pick<PerformContext, 'progress'>>,
  limits: ToolLimits,
): { discard: SfaError } | { snooze: number } | null {
  const { exit } = run;
  // A cancel or shutdown: spotdl exits 0 on SIGTERM, which must never read as success.
  if (ctx.signal.aborted || exit.stopped === 'aborted') throw ctx.signal.reason ?? new SfaError('CANCELLED', 'cancelled');
  if (run.rateLimit !== null) {
    const ownApp = 'Your own Spotify app (client id and secret from developer.spotify.com, in Settings or `sfa spotify --client-id ID --client-secret-stdin`) has its own limit.';
    if (run.rateLimit > LONG_RATE_LIMIT_S) {
      // the shared app is limited for hours: retrying in minutes only burns the attempts
      const wait = Math.min(run.rateLimit, MAX_RATE_LIMIT_WAIT_S);
      ctx.progress?.(0, `Spotify rate limit: retrying at ${new Date(Date.now() + wait * 1000).toISOString()} (Spotify asked for ${run.rateLimit} s). ${ownApp}`);
      return { snooze: wait };
    }
    throw new SfaError('RATE_LIMITED', `Spotify rate limit reached (the tool wanted to wait ${run.rateLimit} s); the download is retried later. ${ownApp}`);
  }
  if (run.noJsRuntime && exit.code !== 0) return { discard: jsRuntimeMissing(denoPath(), 'yt-dlp cannot use it') };
  if (exit.stopped === 'stalled') throw new SfaError('DOWNLOAD_STALLED', `${tool} printed nothing for ${Math.round(limits.stallMs / 1000)} s and was stopped.`);
  if (exit.stopped === 'timeout') throw new SfaError('DOWNLOAD_TIMEOUT', `${tool} took longer than ${Math.round(limits.timeoutMs / 1000)} s and was stopped.`);
  const permanent = run.songErrors.find((e) => e.permanent);
  if (permanent) return { discard: new SfaError('NO_MATCH', permanent.message) };
  if (exit.code !== 0) {
    // The final exception of a traceback (or yt-dlp's last ERROR:) says most; earlier lines are causes.
    const why = failureSummary(exit.tail) ?? run.errorLines[run.errorLines.length - 1] ?? run.songErrors[0]?.message ?? 'no output';
    const message = `${tool} failed (exit ${exit.code ?? exit.signal}): ${why}`;
    // yt-dlp exits 2 on bad options: a bug of ours, not worth retrying.
    if (tool === 'yt-dlp' && exit.code === 2) return { discard: new SfaError('BAD_REQUEST', message) };
    throw new SfaError('DOWNLOAD_FAILED', message);
  }
  if (run.songErrors.length) throw new SfaError('DOWNLOAD_FAILED', run.songErrors[0]!.message);
  return null;
}

const AUDIO_EXT = new Set(['.mp3', '.m4a', '.opus', '.ogg', '.wav', '.flac', '.webm', '.aac']);

/** The downloaded file: the path the tool printed (only if inside `dir`), else the one audio file in `dir`. */
function findAudio(dir: string, printed: string[]): string | null {
  for (const p of printed.slice().reverse()) {
    const abs = resolve(p);
    if (abs.startsWith(dir + sep) && existsSync(abs)) return abs;
  }
  const files = readdirSync(dir).filter((f) => AUDIO_EXT.has(extname(f).toLowerCase()));
  return files.length === 1 ? join(dir, files[0]!) : null;
}

/**
 * DownloadWorker (queue `download`, priority 1, 3 attempts, unique per canonical URL for 5 min):
 * one Spotify track (spotdl) or YouTube video (yt-dlp) into `<home>/media/downloads/<trackId>.mp3`.
 *
 * The tool writes into `<downloads>/.<trackId>.download/` (wiped at the start of every attempt);
 * the file is renamed into place and the track becomes `ready` (path, size, probe, metadata) in
 * the transaction that completes the job, so retries are idempotent and a cancel, a crash or a
 * failure never leaves a half file registered. The pipeline's separate -> analyze jobs already
 * depend on this job and are released by that same transaction. The track's `failed` status on a
 * final failure or a cancel is set by `watchLinkTracks` (it sees every way a job can end).
 */
export function downloadWorker(deps: WorkerDeps, overrides: Partial<ToolLimits> = {}) {
  const limits = toolLimits(overrides);
  return defineWorker<DownloadArgs>({
    name: 'download',
    ...LINK_JOB_OPTIONS,
    async perform(job, ctx) {
      const start = linkJobStart(deps, job.args, ['track', 'video'], 'The track was removed from the library.');
      if ('discard' in start) return start;
      const { link, track } = start;
      const tool = await toolFfmpeg();
      if ('discard' in tool) return tool;
      const { ffmpeg } = tool;
      // yt-dlp >= 2025.11.12 cannot download from YouTube without a JavaScript runtime, and spotdl's
      // yt-dlp hides why (its errors read "YT-DLP download error"): say it once, clearly, up front
      const deno = denoPath();
      if (!existsSync(deno)) return { discard: jsRuntimeMissing(deno, 'it is not installed') };
      const work = join(deps.paths.downloads, `.${track.id}.download`);
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      let keepWork = false;
      try {
        ctx.progress(0, `downloading ${link.canonical}`);
        const tool = link.kind === 'spotify' ? 'spotdl' : 'yt-dlp';
        const args =
          link.kind === 'spotify'
            ? spotdlDownloadArgs(link.canonical, work, track.id, ffmpeg, { deno, credentials: deps.spotify?.() })
            : ytDlpDownloadArgs(link.canonical, work, track.id, ffmpeg, deps.paths.cache, deno);
        const run = await runLinkTool(tool, args, ctx, limits, 0.95);
        const fate = judgeToolRun(tool, run, ctx, limits);
        if (fate) return fate;
        const file = findAudio(work, run.files);
        if (!file) throw new SfaError('DOWNLOAD_FAILED', `${tool} finished without an audio file${failureSummary(run.exit.tail) ? ` (${failureSummary(run.exit.tail)})` : ''}.`);

        const meta = link.kind === 'spotify' ? spotdlSavedSong(join(work, `${track.id}.spotdl`)) : run.meta ? youtubeSong(run.meta) : null;
        ctx.progress(96, 'probing the downloaded file');
        const probe = await probeFile(deps, file, ctx.signal);
        const size = statSync(file).size;
        const finalPath = join(deps.paths.downloads, `${track.id}${extname(file).toLowerCase()}`);
        keepWork = true; // the completion moves the file out and removes the folder
        ctx.progress(100, 'downloaded');
        ctx.onComplete((tx) => {
          renameSync(file, finalPath);
          rmSync(work, { recursive: true, force: true });
          completeDownload(
            tx.db,
            track.id,
            { path: finalPath, size, duration: probe?.duration ?? null, sampleRate: probe?.sampleRate ?? null, channels: probe?.channels ?? null, codec: probe?.codec ?? null },
            { ...(meta ?? {}), ...(link.kind === 'spotify' ? { spotifyId: link.id } : { youtubeId: link.id }) },
          );
        });
        return { ok: { path: finalPath, size, title: meta?.title ?? null, artist: meta?.artists.join(', ') || null, duration: probe?.duration ?? meta?.duration ?? null } };
      } finally {
        if (!keepWork) rmSync(work, { recursive: true, force: true });
      }
    },
  });
}

/**
 * spotdl 4.6 arguments. Options come first, then the operation, then `--`, then the URL:
 * spotdl's argparse (an optional `operation` positional before `query`) rejects `--` after
 * options that follow the operation (`download --format mp3 -- URL` exits 2), but accepts
 * `[options] download -- URL` (checked with the real parser). The URL is in any case the
 * canonical one rebuilt from a validated 22-character id, so it can never read as an option.
 * `--save-file` beside `download` writes the song's metadata (Song.json) to a file we read.
 * spotdl's yt-dlp gets the JavaScript runtime through `--yt-dlp-args`; the user's own Spotify app,
 * if set, through `--client-id/--client-secret`.
 */
export function spotdlDownloadArgs(
  url: string,
  work: string,
  trackId: string,
  ffmpeg: string,
  extra: { deno?: string; credentials?: { clientId: string; clientSecret: string } | null } = {},
): string[] {
  return [
    '--simple-tui',
    ...(extra.deno ? ['--yt-dlp-args', `--js-runtimes ${shlexQuote(`deno:${extra.deno}`)}`] : []),
    ...spotifyCredentialArgs(extra.credentials),
    '--format', 'mp3',
    '--bitrate', '320k',
    '--ffmpeg', ffmpeg,
    '--output', join(work, `${trackId}.{output-ext}`),
    '--save-file', join(work, `${trackId}.spotdl`),
    'download', '--', url,
  ];
}

/**
 * yt-dlp arguments: no user config (it could redirect the output), our cache dir, the JavaScript
 * runtime named explicitly (`--ignore-config` drops any configured one), `--` before the URL.
 */
export function ytDlpDownloadArgs(url: string, work: string, trackId: string, ffmpeg: string, cacheDir: string, deno?: string): string[] {
  return [
    '--ignore-config',
    ...(deno ? ['--js-runtimes', `deno:${deno}`] : []),
    '--no-playlist',
    '--cache-dir', join(cacheDir, 'yt-dlp'),
    '--newline',
    '--progress',
    '--progress-template', YTDLP_PROGRESS_TEMPLATE,
    '--print', YTDLP_META_TEMPLATE,
    '--print', 'after_move:filepath',
    '-x',
    '--audio-format', 'mp3',
    '--audio-quality', '320K',
    '--ffmpeg-location', ffmpeg,
    '-o', join(work, `${trackId}.%(ext)s`),
    '--', url,
  ];
}

function spotdlSavedSong(file: string): SongMetadata | null {
  try {
    return parseSpotdlSongs(readFileSync(file, 'utf8'))[0] ?? null;
  } catch {
    return null; // metadata is a bonus: the probe's tags and the URL still describe the track
  }
}

async function probeFile(deps: WorkerDeps, path: string, signal: AbortSignal): Promise<ProbeResult | null> {
  if (!deps.sidecars.probe) return null;
  try {
    return await deps.sidecars.probe.run<ProbeResult>('probe', { path }, { timeoutMs: 60_000, signal });
  } catch (error) {
    const info = toErrorInfo(error);
    if (info.code === 'SIDECAR_UNAVAILABLE') throw error;
    if (signal.aborted) throw error;
    // A truncated or corrupt download: the next attempt downloads it again.
    throw new SfaError('DOWNLOAD_FAILED', `The downloaded file is not readable audio: ${info.message}`);
  }
}

/**
 * A link track whose download or expansion ended for good (discarded, or cancelled by the user)
 * becomes `failed` with the reason, so the library says why it has no audio. Also covers
 * failures no perform() sees (a timeout, a cancel from another process).
 */
export function watchLinkTracks(scheduler: Scheduler, tracks: TrackRepository): void {
  scheduler.on('job:state', ({ job }) => {
    if ((job.worker !== 'download' && job.worker !== 'expand') || !job.trackId) return;
    if (job.state !== 'discarded' && job.state !== 'cancelled') return;
    const track = tracks.get(job.trackId);
    if (!track || track.status === 'ready') return;
    const last = job.errors[job.errors.length - 1];
    const reason = last?.error ?? (job.state === 'cancelled' ? 'cancelled' : 'failed');
    tracks.setStatus(track.id, 'failed', job.state === 'cancelled' ? `Download cancelled: ${reason}` : `Download failed: ${reason}`);
  });
}

