import type { PipelineStep, Track } from '../../shared/domain';
import { recogniseLink } from '../../shared/links';
import type { JobSpec } from '../jobs';
import type { SeparateArgs } from './separate';

export interface PipelineOptions {
  steps: readonly PipelineStep[];
  separation: Omit<SeparateArgs, 'trackId'>;
}

/**
 * The jobs that bring one track through the pipeline: [download ->] separate -> analyze (or, for
 * an album/playlist link, one `expand` job that does this for each of its songs later).
 * Each step depends on the previous one, so it becomes available in the transaction that
 * completes it. Analysis still runs when separation fails or is cancelled (on the mix alone);
 * nothing runs after a failed download (there is no audio).
 */
export function pipelineSpecs(track: Track, options: PipelineOptions): JobSpec<unknown>[] {
  const specs: JobSpec<unknown>[] = [];
  const ref = (step: string) => `${track.id}:${step}`;
  let previous: string | null = null;
  if (track.status === 'pending' && track.sourceKind !== 'file') {
    // An album or playlist: one `expand` job lists its songs and, when it completes, inserts a
    // track and this same pipeline for each of them (src/main/workers/expand.ts).
    const link = recogniseLink(track.source);
    if (link.ok && (link.type === 'album' || link.type === 'playlist')) {
      return [{ worker: 'expand', args: { trackId: track.id, url: link.canonical, steps: [...options.steps], separation: options.separation }, trackId: track.id, ref: ref('expand') }];
    }
    specs.push({ worker: 'download', args: { trackId: track.id, url: track.source }, trackId: track.id, ref: ref('download') });
    previous = ref('download');
  }
  const afterDownload = previous;
  if (options.steps.includes('separate')) {
    specs.push({
      worker: 'separate',
      args: { ...options.separation, trackId: track.id },
      trackId: track.id,
      ref: ref('separate'),
      ...(previous ? { dependsOn: [previous] } : {}),
    });
    previous = ref('separate');
  }
  if (options.steps.includes('analyze')) {
    const dependsOn = [previous, afterDownload].filter((r, i, all): r is string => r !== null && all.indexOf(r) === i);
    specs.push({
      worker: 'analyze',
      args: { trackId: track.id },
      trackId: track.id,
      ref: ref('analyze'),
      ...(dependsOn.length ? { dependsOn } : {}),
      // A failed separation still leaves the mix to analyse; a failed download leaves nothing,
      // and the analysis then cancels itself (the track has no audio).
      onDependencyFailure: 'run',
    });
  }
  return specs;
}
