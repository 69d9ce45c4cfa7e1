import { m001Tracks } from './001_tracks';
import { m002Jobs } from './002_jobs';
import type { Migration } from './types';

/** Every migration, in order. Append only: shipped migrations are frozen (checked at start). */
export const migrations: readonly Migration[] = [m001Tracks, m002Jobs];
