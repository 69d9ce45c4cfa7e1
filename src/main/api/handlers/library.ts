import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PIPELINE_STEPS } from '../../../shared/domain';
import { SfaError } from '../../../shared/errors';
import { toAddResult } from '../../library/importer';
import type { Handlers } from '../index';
import { assertWritable, type Services } from '../services';

type LibraryHandlers = Pick<Handlers, 'library.add' | 'library.list' | 'library.get' | 'library.remove' | 'pipeline.run'>;

export function libraryHandlers(s: Services): LibraryHandlers {
  return {
    'library.add': async ({ inputs, steps, model }) => {
      assertWritable(s);
      const result = await s.importer.add(inputs);
      const created = result.added.filter((a) => a.created).map((a) => a.track.id);
      if (created.length) {
        await s.enqueuePipeline(created, steps ?? (s.settings.stored().autoPipeline ? PIPELINE_STEPS : []), model ? { model } : {});
        s.events.emit('library:changed', { ids: created });
      }
      return toAddResult(result);
    },
    'library.list': () => {
      const summaries = s.analyses.summaries();
      const stemSets = s.stems.latestSetByTrack();
      const exists = new Map<string, boolean>();
      const onDisk = (path: string) => exists.get(path) ?? (exists.set(path, existsSync(path)), exists.get(path)!);
      return {
        tracks: s.tracks.list().map((t) => {
          // A file moved or deleted outside the app says so (one stat per ready track).
          const status = t.status === 'ready' && t.path && !onDisk(t.path) ? 'missing' : t.status;
          return { ...t, status, analysis: summaries.get(t.id) ?? null, stemCount: Object.keys(stemSets.get(t.id)?.stems ?? {}).length };
        }),
      };
    },
    'library.get': ({ id }) => s.trackDetail(id),
    'library.remove': ({ ids }) => {
      assertWritable(s);
      const removed: string[] = [];
      for (const id of ids) {
        if (!s.tracks.get(id)) continue;
        for (const job of s.scheduler.listJobs({ trackId: id, state: ['scheduled', 'available', 'executing', 'retryable'], limit: 1000 })) {
          try {
            s.scheduler.cancel(job.id, 'the track was removed');
          } catch {
            // finished meanwhile
          }
        }
        removed.push(id);
      }
      // Tracks only: analysis and stem rows go with them (ON DELETE CASCADE).
      const del = s.db.prepare('DELETE FROM tracks WHERE id = ?');
      s.db.transaction(() => removed.forEach((id) => del.run(id)))();
      // Our stem files; never the user's own audio.
      for (const id of removed) rmSync(join(s.paths.stems, id), { recursive: true, force: true });
      for (const key of s.peaksCache.keys()) if (removed.some((id) => key.startsWith(`${id}/`))) s.peaksCache.delete(key);
      if (removed.length) s.events.emit('library:changed', { ids: removed });
      return { removed };
    },
    'pipeline.run': async ({ ids, steps, model }) => {
      assertWritable(s);
      const missing = ids.filter((id) => !s.tracks.get(id));
      if (missing.length === ids.length) throw new SfaError('NOT_FOUND', `No track with id ${missing[0]}.`);
      const jobIds = await s.enqueuePipeline(ids, steps, model ? { model } : {});
      s.events.emit('library:changed', { ids });
      return { jobIds };
    },
  };
}
