import { execa } from 'execa';
import { copyFileSync, mkdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { TrackDetail } from '../../shared/domain';
import { SfaError } from '../../shared/errors';
import { safeFileName } from '../../shared/filenames';
import { bundledFfmpeg } from '../workers/tool-process';

const MIX_TIMEOUT_MS = 10 * 60_000;

/**
 * Copy a track's stems into a folder as "<title> - <stem>.<ext>", and optionally mix every stem
 * but vocals down to "<title> - instrumental.wav" with ffmpeg (argument array, no shell).
 */
export async function exportStems(detail: TrackDetail, options: { stems: string[]; dir: string; instrumental?: boolean }): Promise<string[]> {
  if (!detail.stems) throw new SfaError('NOT_FOUND', `${detail.title} has no stems yet: separate it first.`);
  const unknown = options.stems.filter((stem) => !detail.stems![stem]);
  if (unknown.length) throw new SfaError('NOT_FOUND', `${detail.title} has no stem ${unknown.join(', ')}.`);
  const target = resolve(options.dir);
  mkdirSync(target, { recursive: true });
  const base = safeFileName(detail.title, 'track');
  const files: string[] = [];
  for (const stem of options.stems) {
    const from = detail.stems[stem]!;
    const to = join(target, `${base} - ${stem}${extname(from)}`);
    copyFileSync(from, to);
    files.push(to);
  }
  if (options.instrumental) {
    const parts = Object.entries(detail.stems)
      .filter(([name]) => name !== 'vocals')
      .map(([, p]) => p);
    if (!parts.length) throw new SfaError('NOT_FOUND', 'There are no non-vocal stems to mix.');
    const to = join(target, `${base} - instrumental.wav`);
    const ffmpeg = await bundledFfmpeg();
    await execa(ffmpeg, ['-y', '-v', 'error', ...parts.flatMap((p) => ['-i', p]), '-filter_complex', `amix=inputs=${parts.length}:normalize=0`, to], { timeout: MIX_TIMEOUT_MS });
    files.push(to);
  }
  return files;
}
