import { SfaError } from '../../shared/errors';
import { DEFAULTS, type JsonObject, type Worker, type WorkerOptions } from './types';

const NAME = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * Define a worker. Validates the options once (a bad worker is a bug, so this throws at module
 * load, not when the first job runs) and fills the defaults from DEFAULTS.
 */
export function defineWorker<A = JsonObject>(options: WorkerOptions<A>): Worker<A> {
  if (!NAME.test(options.name)) throw new SfaError('BAD_REQUEST', `worker name "${options.name}" must match ${NAME}`);
  if (!options.queue || options.queue.length > 64) throw new SfaError('BAD_REQUEST', `worker ${options.name} needs a queue`);
  const maxAttempts = options.maxAttempts ?? DEFAULTS.maxAttempts;
  const priority = options.priority ?? DEFAULTS.priority;
  const timeout = options.timeout ?? DEFAULTS.timeoutMs;
  validatePriority(priority, options.name);
  validateMaxAttempts(maxAttempts, options.name);
  if (!(timeout > 0)) throw new SfaError('BAD_REQUEST', `worker ${options.name}: timeout must be > 0 ms`);
  if (typeof options.perform !== 'function') throw new SfaError('BAD_REQUEST', `worker ${options.name} needs perform()`);
  return Object.freeze({
    name: options.name,
    queue: options.queue,
    maxAttempts,
    priority,
    timeout,
    backoff: options.backoff,
    unique: options.unique,
    perform: options.perform,
  });
}

export function validatePriority(priority: number, what: string): void {
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) {
    throw new SfaError('BAD_REQUEST', `${what}: priority must be an integer 0..9 (lower runs first), got ${priority}`);
  }
}

export function validateMaxAttempts(maxAttempts: number, what: string): void {
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) {
    throw new SfaError('BAD_REQUEST', `${what}: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  }
}
