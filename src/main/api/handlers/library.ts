import { randomUUID } from 'node:crypto';
import { PIPELINE_STEPS } from '../../../shared/domain';
import { SfaError } from '../../../shared/errors';
import { toAddResult } from '../../library/importer';
import { listFilter, listLibrary } from '../../library/listing';
import { LibraryListing } from '../../library/listing-query';
import { removeTracks } from '../../library/removal';
import { analyzeNow, separateNow, type RunNowDeps } from '../../library/run-now';
import type { Handlers } from '../index';
import { assertWritable, type Services } from '../services';

type LibraryHandlers = Pick<Handlers, 'library.add' | 'library.list' | 'library.count' | 'library.ids' | 'library.titles' | 'library.get' | 'library.remove' | 'pipeline.run' | 'analysis.run' | 'separation.run'>;

export function libraryHandlers(s: Services): LibraryHandlers {
  const runNow: RunNowDeps = { ...s, separationDefaults: s.pipeline.separationDefaults };
  let listing: LibraryListing | undefined;
  const windows = () => (listing ??= new LibraryListing(s.db, s.tracks, s.stems));
  return {
    'library.add': async ({ inputs, steps, model, summaryOnly }) => {
      assertWritable(s);
      const importId = randomUUID();
      const pipelineSteps = steps ?? (s.settings.stored().autoPipeline ? PIPELINE_STEPS : []);
      // Streamed: each batch is in the library, its jobs enqueued and the UI told, while the next is read.
      const result = await s.importer.add(inputs, {
        summaryOnly,
        onBatch: async (created) => {
          const ids = created.map((t) => t.id);
          await s.pipeline.enqueue(ids, pipelineSteps, model ? { model } : {});
          s.events.emit('library:changed', { ids });
        },
        onProgress: (counts, done) => s.events.emit('library:import', { importId, ...counts, done }),
      });
      return toAddResult(result);
    },
    'library.list': (params) => listLibrary(s, windows(), params),
    'library.count': (query) => windows().countMatches(listFilter(query)),
    'library.ids': ({ offset, limit, ...query }) => ({ ids: windows().ids(listFilter(query), offset, limit) }),
    'library.titles': ({ ids }) => ({ titles: windows().titles(ids) }),
    'library.get': ({ id }) => s.trackDetail(id),
    'library.remove': ({ ids }) => {
      assertWritable(s);
      return { removed: removeTracks({ ...s, stemsDir: s.paths.stems }, ids) };
    },
    'pipeline.run': async ({ ids, steps, model }) => {
      assertWritable(s);
      const missing = ids.filter((id) => !s.tracks.get(id));
      if (missing.length === ids.length) throw new SfaError('NOT_FOUND', `No track with id ${missing[0]}.`);
      const jobIds = await s.pipeline.enqueue(ids, steps, model ? { model } : {});
      s.events.emit('library:changed', { ids });
      return { jobIds };
    },
    'analysis.run': ({ input }) => (assertWritable(s), analyzeNow(runNow, input)),
    'separation.run': ({ input, ...settings }) => (assertWritable(s), separateNow(runNow, input, settings)),
  };
}
