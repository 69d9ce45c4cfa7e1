import type { PipelineStep } from '../../shared/domain';
import { PIPELINE_STEPS } from '../../shared/domain';
import type { JobSpec, Scheduler } from '../jobs';
import { pipelineSpecs } from '../workers/pipeline';
import type { SeparationSettings } from '../workers/separate';
import type { TrackRepository } from './tracks';

export type { SeparationSettings };

export interface Pipeline {
  /** The separation settings a job gets unless its request says otherwise (stored settings over the built-ins). */
  separationDefaults(): SeparationSettings;
  /** Enqueue pipeline steps for tracks in one transaction (library.add, pipeline.run); returns the job ids. */
  enqueue(trackIds: string[], steps?: readonly PipelineStep[], separation?: Partial<SeparationSettings>): Promise<number[]>;
}

export function createPipeline(deps: { tracks: TrackRepository; scheduler: Scheduler; separationDefaults: () => SeparationSettings }): Pipeline {
  return {
    separationDefaults: deps.separationDefaults,
    async enqueue(trackIds, steps = PIPELINE_STEPS, separation = {}) {
      const specs: JobSpec<unknown>[] = [];
      for (const id of trackIds) {
        const track = deps.tracks.get(id);
        if (track) specs.push(...pipelineSpecs(track, { steps, separation: { ...deps.separationDefaults(), ...separation } }));
      }
      if (!specs.length) return [];
      return (await deps.scheduler.insertAll(specs)).map((r) => r.job.id);
    },
  };
}
