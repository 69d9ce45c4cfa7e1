import { join } from 'node:path';
import type { DjProgress } from '../../../shared/dj';
import { SfaError } from '../../../shared/errors';
import { exportCollection, type CollectionFormat } from '../../library/dj/collection';
import { exportStemFiles } from '../../library/dj/stems';
import { TagBackupRepository } from '../../library/dj/tag-backups';
import { readTags, restoreTags, writeTags } from '../../library/dj/tags';
import type { Handlers } from '../index';
import { assertWritable, type Services } from '../services';

type DjHandlers = Pick<
  Handlers,
  'tags.read' | 'tags.write' | 'tags.restore' | 'export.rekordbox' | 'export.traktor' | 'export.m3u' | 'export.stemFiles'
>;

const EXTENSIONS: Record<CollectionFormat, string> = { rekordbox: 'xml', traktor: 'nml', m3u: 'm3u8' };
const PROGRESS_EVERY_MS = 200;

/** Tags in the user's files, DJ collections and NI Stems (src/main/library/dj/). */
export function djHandlers(s: Services): DjHandlers {
  // Prepared on first use: an engine opened read-only on a database not yet migrated to 007 still starts.
  let backups: TagBackupRepository | undefined;
  const tagDeps = () => ({ tracks: s.tracks, analyses: s.analyses, backups: (backups ??= new TagBackupRepository(s.db)), sidecar: s.sidecars.probe });
  const progress = (task: DjProgress['task']) => {
    let last = 0;
    return (done: number, total: number) => {
      const now = Date.now();
      if (done < total && now - last < PROGRESS_EVERY_MS) return;
      last = now;
      s.events.emit('dj:progress', { task, done, total });
    };
  };
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  // A path of this machine is for the desktop app and the CLI; the browser host writes into the
  // library's exports folder, whose path it reports.
  const target = (given: string | undefined, fallback: string) => {
    if (given !== undefined && !s.canPassPaths) throw new SfaError('UNSUPPORTED', 'In the browser the export is written to the library\'s exports folder; leave the path out.');
    return given ?? join(s.paths.exports, fallback);
  };
  const collection = (format: CollectionFormat) => (p: { ids?: string[]; out?: string }) =>
    exportCollection(s, format, target(p.out, `sfa-${format}-${stamp()}.${EXTENSIONS[format]}`), p.ids, progress(`export.${format}`));
  const settings = () => s.settings.stored();

  return {
    'tags.read': ({ id }) => readTags(tagDeps(), id),
    'tags.write': ({ ids, keyNotation }) => {
      assertWritable(s);
      const { keyNotation: notation, energyField } = settings();
      return writeTags(tagDeps(), ids, { notation: keyNotation ?? notation, energyField }, progress('tags.write'));
    },
    'tags.restore': ({ ids }) => (assertWritable(s), restoreTags(tagDeps(), ids, progress('tags.restore'))),
    'export.rekordbox': collection('rekordbox'),
    'export.traktor': collection('traktor'),
    'export.m3u': collection('m3u'),
    'export.stemFiles': ({ ids, format, dir, codec }) =>
      exportStemFiles(
        { tracks: s.tracks, analyses: s.analyses, trackDetail: s.trackDetail, sidecar: s.sidecars.analysis },
        ids,
        { dir: target(dir, `stems-${stamp()}`), format, codec: codec ?? settings().stemCodec },
        progress('export.stemFiles'),
      ),
  };
}
