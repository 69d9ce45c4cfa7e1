import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PipelineStep } from '../../shared/domain';
import { SfaError, toErrorInfo } from '../../shared/errors';
import { defineWorker, type JobSpec } from '../jobs';
import { deleteTrack, findSameSong, insertLinkTrack, type SongMetadata } from '../library/link-tracks';
import type { WorkerDeps } from './deps';
import { judgeToolRun, LINK_JOB_OPTIONS, linkJobStart, runLinkTool, spotifyCredentialArgs, toolFfmpeg, toolLimits, type ToolLimits } from './download';
import { pipelineSpecs } from './pipeline';
import type { SeparateArgs } from './separate';
import { parseSpotdlSongs, parseYtDlpPlaylist } from './tool-output';

export interface ExpandArgs {
  /** The album/playlist placeholder track that `sfa add` created. */
  trackId: string;
  url: string;
  /** The pipeline chosen at add time, applied to every song. */
  steps: PipelineStep[];
  separation: Omit<SeparateArgs, 'trackId'>;
  [key: string]: unknown;
}

/**
 * ExpandWorker (queue `download`, priority 1, 3 attempts, unique per URL for 5 min): an album or
 * playlist link becomes one track per song. Expansion needs the network (spotdl `save`, yt-dlp
 * `--flat-playlist -J`), so it is a job of its own rather than work done at add time: `sfa add`
 * returns at once, and rate limits, retries and cancels work as for downloads.
 *
 * In the transaction that completes the job, each song either reuses the library track that
 * already holds it (same URL, Spotify/YouTube id or ISRC: not downloaded again) or becomes a new
 * `pending` track with its metadata (title, artists, album, duration, ISRC, cover URL) and its own
 * pipeline (download -> separate -> analyze); then the placeholder track is removed.
 */
export function expandWorker(deps: WorkerDeps, overrides: Partial<ToolLimits> = {}) {
  const limits = toolLimits(overrides);
  return defineWorker<ExpandArgs>({
    name: 'expand',
    ...LINK_JOB_OPTIONS,
    async perform(job, ctx) {
      const start = linkJobStart(deps, job.args, ['album', 'playlist'], 'The album/playlist was removed from the library.');
      if ('discard' in start) return start;
      const { link, track: placeholder } = start;

      const work = join(deps.paths.cache, 'expand', String(job.id));
      rmSync(work, { recursive: true, force: true });
      mkdirSync(work, { recursive: true });
      let songs: SongMetadata[];
      try {
        ctx.progress(0, `listing the songs of ${link.canonical}`);
        if (link.kind === 'spotify') {
          const tool = await toolFfmpeg();
          if ('discard' in tool) return tool;
          const { ffmpeg } = tool;
          // A file, not `--save-file -`: on stdout the JSON would share the stream with spotdl's log lines.
          const list = join(work, 'songs.spotdl');
          const run = await runLinkTool('spotdl', ['--simple-tui', ...spotifyCredentialArgs(deps.spotify?.()), '--ffmpeg', ffmpeg, '--save-file', list, 'save', '--', link.canonical], ctx, limits, 0.9);
          const fate = judgeToolRun('spotdl', run, ctx, limits);
          if (fate) return fate;
          songs = parseListing(() => parseSpotdlSongs(readFileSync(list, 'utf8')));
        } else {
          const run = await runLinkTool('yt-dlp', ['--ignore-config', '--cache-dir', join(deps.paths.cache, 'yt-dlp'), '--flat-playlist', '-J', '--', link.canonical], ctx, limits, 0.9);
          const fate = judgeToolRun('yt-dlp', run, ctx, limits);
          if (fate) return fate;
          songs = parseListing(() => parseYtDlpPlaylist(run.stdout.join('\n')));
        }
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
      if (songs.length === 0) return { discard: new SfaError('NO_MATCH', `${link.canonical} lists no songs that can be downloaded.`) };

      const steps = Array.isArray(job.args.steps) ? job.args.steps : [];
      ctx.onComplete((tx) => {
        const seen = new Set<string>();
        for (const song of songs) {
          if (seen.has(song.url)) continue;
          seen.add(song.url);
          if (findSameSong(tx.db, song)) continue;
          const id = insertLinkTrack(tx.db, song);
          const track = deps.tracks.get(id)!;
          for (const spec of pipelineSpecs(track, { steps, separation: job.args.separation })) tx.insert(spec as JobSpec<unknown>);
        }
        deleteTrack(tx.db, placeholder.id);
      });
      ctx.progress(100, `${songs.length} songs`);
      return { ok: { url: link.canonical, songs: songs.length } };
    },
  });
}

function parseListing(parse: () => SongMetadata[]): SongMetadata[] {
  try {
    return parse();
  } catch (error) {
    throw new SfaError('DOWNLOAD_FAILED', `The song list could not be read: ${toErrorInfo(error).message}`);
  }
}
