/**
 * The contract's request and event names as plain data, with no zod import, for the sandboxed
 * preload (which must not bundle the schemas). Typechecked against `contract.ts`: adding a request
 * or an event there without listing it here fails `tsc`.
 */
import type { EventName, RequestName } from './contract';

export const REQUEST_NAMES = [
  'library.add',
  'library.list',
  'library.get',
  'library.ids',
  'library.count',
  'library.titles',
  'jobs.list',
  'jobs.get',
  'jobs.cancel',
  'jobs.retry',
  'queues.list',
  'queues.pause',
  'queues.resume',
  'queues.scale',
  'system.doctor',
  'system.info',
  'models.list',
  'models.download',
  'models.import',
  'models.remove',
  'library.remove',
  'pipeline.run',
  'export.analysis',
  'export.stems',
  'media.peaks',
  'settings.get',
  'settings.set',
  'setup.status',
  'setup.start',
  'system.diagnostics',
  'analysis.run',
  'separation.run',
  'jobs.wait',
  'jobs.failures',
  'queues.waitIdle',
  'tags.read',
  'tags.write',
  'tags.restore',
  'export.rekordbox',
  'export.traktor',
  'export.m3u',
  'export.stemFiles',
  'cluster.status',
  'cluster.install',
] as const satisfies readonly RequestName[];
export const PUSH_EVENT_NAMES = ['library:changed', 'job:changed', 'job:progress', 'queues:changed', 'models:progress', 'setup:progress', 'dj:progress', 'library:import', 'cluster:install'] as const satisfies readonly EventName[];

type Missing<All, Listed> = [Exclude<All, Listed>] extends [never] ? true : Exclude<All, Listed>;
/** A type error here names the request or event missing from the lists above. */
export const NAMES_COMPLETE: [Missing<RequestName, (typeof REQUEST_NAMES)[number]>, Missing<EventName, (typeof PUSH_EVENT_NAMES)[number]>] = [true, true];

const requestNames: ReadonlySet<string> = new Set(REQUEST_NAMES);
const eventNames: ReadonlySet<string> = new Set(PUSH_EVENT_NAMES);

export function isKnownRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && requestNames.has(name);
}

export function isKnownEventName(name: unknown): name is EventName {
  return typeof name === 'string' && eventNames.has(name);
}
