import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/connection';
import type { EventBus } from '../events';
import type { Scheduler } from '../jobs';
import type { PeaksCache } from './peaks';
import type { TrackRepository } from './tracks';

const UNFINISHED = ['scheduled', 'available', 'executing', 'retryable'] as const;

/**
 * Remove tracks from the library: their unfinished jobs are cancelled, their rows go (analysis and
 * stem rows with them, ON DELETE CASCADE), and our stem files are deleted; never the user's own audio.
 */
export function removeTracks(
  deps: { db: Db; tracks: TrackRepository; scheduler: Scheduler; stemsDir: string; peaks: PeaksCache; events: EventBus },
  ids: readonly string[],
): string[] {
  const removed = ids.filter((id) => deps.tracks.get(id));
  for (const id of removed) {
    for (const job of deps.scheduler.listJobs({ trackId: id, state: [...UNFINISHED], limit: 1000 })) {
      try {
        deps.scheduler.cancel(job.id, 'the track was removed');
      } catch {
        // finished meanwhile
      }
    }
  }
  const del = deps.db.prepare('DELETE FROM tracks WHERE id = ?');
  deps.db.transaction(() => removed.forEach((id) => del.run(id)))();
  for (const id of removed) rmSync(join(deps.stemsDir, id), { recursive: true, force: true });
  deps.peaks.forgetTracks(removed);
  if (removed.length) deps.events.emit('library:changed', { ids: removed });
  return removed;
}
