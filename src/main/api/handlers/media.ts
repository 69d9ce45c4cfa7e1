import { execa } from 'execa';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import type { Peaks } from '../../../shared/domain';
import { SfaError } from '../../../shared/errors';
import { safeFileName } from '../../../shared/filenames';
import { exportAnalysis } from '../../library/export';
import { bundledFfmpeg } from '../../workers/tool-process';
import type { Handlers } from '../index';
import type { Services } from '../services';

type MediaHandlers = Pick<Handlers, 'export.analysis' | 'export.stems' | 'media.peaks'>;

const PEAKS_CACHE_MAX = 256;

export function mediaHandlers(s: Services): MediaHandlers {
  return {
    'export.analysis': ({ ids, format }) => {
      const content = exportAnalysis(s.tracks, s.analyses, format, ids);
      const count = format === 'csv' ? Math.max(0, content.split('\r\n').length - 2) : (JSON.parse(content) as unknown[]).length;
      return { content, filename: `sfa-analysis-${new Date().toISOString().slice(0, 10)}.${format}`, count };
    },
    'export.stems': async ({ trackId, stems: wanted, dir, instrumental }) => {
      // Writing into a folder of this machine is for the desktop app and the CLI; the browser
      // host downloads stems through its authenticated media route instead.
      if (!s.canPassPaths) throw new SfaError('UNSUPPORTED', 'Exporting to a folder is available in the desktop app; in the browser, download the stems.');
      const detail = s.trackDetail(trackId);
      if (!detail.stems) throw new SfaError('NOT_FOUND', `${detail.title} has no stems yet: separate it first.`);
      const unknown = wanted.filter((stem) => !detail.stems![stem]);
      if (unknown.length) throw new SfaError('NOT_FOUND', `${detail.title} has no stem ${unknown.join(', ')}.`);
      const target = resolve(dir);
      mkdirSync(target, { recursive: true });
      const base = safeFileName(detail.title, 'track');
      const files: string[] = [];
      for (const stem of wanted) {
        const from = detail.stems[stem]!;
        const to = join(target, `${base} - ${stem}${extname(from)}`);
        copyFileSync(from, to);
        files.push(to);
      }
      if (instrumental) {
        const parts = Object.entries(detail.stems)
          .filter(([name]) => name !== 'vocals')
          .map(([, p]) => p);
        if (!parts.length) throw new SfaError('NOT_FOUND', 'There are no non-vocal stems to mix.');
        const to = join(target, `${base} - instrumental.wav`);
        const ffmpeg = await bundledFfmpeg();
        await execa(ffmpeg, ['-y', '-v', 'error', ...parts.flatMap((p) => ['-i', p]), '-filter_complex', `amix=inputs=${parts.length}:normalize=0`, to], {
          timeout: 10 * 60_000,
        });
        files.push(to);
      }
      return { files };
    },
    'media.peaks': async ({ trackId, stem, points }) => {
      const detail = s.trackDetail(trackId);
      const path = stem ? detail.stems?.[stem] : detail.path;
      if (!path) throw new SfaError('NOT_FOUND', stem ? `${detail.title} has no stem ${stem}.` : `${detail.title} has no audio file yet.`);
      if (!existsSync(path)) throw new SfaError('FILE_NOT_FOUND', `The audio file is missing: ${path}`);
      const key = `${trackId}/${stem ?? 'source'}/${points}/${path}`;
      const cached = s.peaksCache.get(key);
      if (cached) return cached;
      const result = await s.sidecars.analysis.run<Peaks>('peaks', { path, points, mixed: true }, { timeoutMs: 5 * 60_000 });
      if (s.peaksCache.size >= PEAKS_CACHE_MAX) s.peaksCache.delete(s.peaksCache.keys().next().value!);
      s.peaksCache.set(key, result);
      return result;
    },
  };
}
