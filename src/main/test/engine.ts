/**
 * Tests only: an engine with its internals beside the contract, for tests that must set up state
 * the contract does not create (a stem registered by hand, a job of a test worker) or inspect it
 * (the database's integrity, a sidecar pool). Hosts never get these: `Engine` is the contract and
 * `media` only, and lint refuses this module outside tests.
 */
import { assembleEngine, type Engine, type EngineOptions } from '../engine';
import type { Services } from '../api/services';
import type { EventBus } from '../events';

const INTERNALS = ['paths', 'db', 'logger', 'tracks', 'analyses', 'stems', 'importer', 'scheduler', 'sidecars', 'models', 'trackDetail', 'pipeline', 'peaks', 'settings'] as const;

export type TestEngine = Omit<Engine, 'events'> &
  Pick<Services, (typeof INTERNALS)[number]> & {
    /** The full bus (tests emit events too). */
    events: EventBus;
    enqueuePipeline: Services['pipeline']['enqueue'];
  };

export async function createEngineForTests(options: EngineOptions): Promise<TestEngine> {
  const { engine, services } = await assembleEngine(options);
  return {
    ...(Object.fromEntries(INTERNALS.map((key) => [key, services[key]])) as Pick<Services, (typeof INTERNALS)[number]>),
    ...engine,
    events: services.events,
    enqueuePipeline: services.pipeline.enqueue,
  };
}
