import type { Handlers } from '../index';
import type { Services } from '../services';
import { djHandlers } from './dj';
import { jobHandlers } from './jobs';
import { libraryHandlers } from './library';
import { mediaHandlers } from './media';
import { systemHandlers } from './system';

/** Every request of the contract, implemented on the engine's services (one module per area). */
export function createHandlers(s: Services): Handlers {
  return { ...libraryHandlers(s), ...jobHandlers(s), ...mediaHandlers(s), ...systemHandlers(s), ...djHandlers(s) };
}
