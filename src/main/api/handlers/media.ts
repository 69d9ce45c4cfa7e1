import { existsSync } from 'node:fs';
import type { Peaks } from '../../../shared/domain';
import { SfaError } from '../../../shared/errors';
import { exportAnalysis } from '../../library/export';
import { exportStems } from '../../library/stem-export';
import type { Handlers } from '../index';
import type { Services } from '../services';

type MediaHandlers = Pick<Handlers, 'export.analysis' | 'export.stems' | 'media.peaks'>;

export function mediaHandlers(s: Services): MediaHandlers {
  return {
    'export.analysis': ({ ids, format }) => {
      const content = exportAnalysis(s.tracks, s.analyses, format, ids);
      const count = format === 'csv' ? Math.max(0, content.split('\r\n').length - 2) : (JSON.parse(content) as unknown[]).length;
      return { content, filename: `sfa-analysis-${new Date().toISOString().slice(0, 10)}.${format}`, count };
    },
    'export.stems': async ({ trackId, stems, dir, instrumental }) => {
      // Writing into a folder of this machine is for the desktop app and the CLI; the browser
      // host downloads stems through its authenticated media route instead.
      if (!s.canPassPaths) throw new SfaError('UNSUPPORTED', 'Exporting to a folder is available in the desktop app; in the browser, download the stems.');
      return { files: await exportStems(s.trackDetail(trackId), { stems, dir, instrumental }) };
    },
    'media.peaks': async ({ trackId, stem, points }) => {
      const detail = s.trackDetail(trackId);
      const path = stem ? detail.stems?.[stem] : detail.path;
      if (!path) throw new SfaError('NOT_FOUND', stem ? `${detail.title} has no stem ${stem}.` : `${detail.title} has no audio file yet.`);
      if (!existsSync(path)) throw new SfaError('FILE_NOT_FOUND', `The audio file is missing: ${path}`);
      return s.peaks.get(trackId, stem ?? 'source', points, path, () => s.sidecars.analysis.run<Peaks>('peaks', { path, points, mixed: true }, { timeoutMs: 5 * 60_000 }));
    },
  };
}
