import { m001Tracks } from './001_tracks';
import { m002Jobs } from './002_jobs';
import { m003AnalysisResults } from './003_analysis_results';
import { m004Stems } from './004_stems';
import { m005LinkMetadata } from './005_link_metadata';
import { m006Settings } from './006_settings';
import { m009TagBackups } from './009_tag_backups';
import type { Migration } from './types';

// MERGE: placeholders for 007/008, which other branches add; replace them with the real ones.
const m007Reserved: Migration = { version: 7, name: 'reserved_7', sql: 'SELECT 1;' };
const m008Reserved: Migration = { version: 8, name: 'reserved_8', sql: 'SELECT 1;' };

/** Every migration, in order. Append only: shipped migrations are frozen (checked at start). */
export const migrations: readonly Migration[] = [m001Tracks, m002Jobs, m003AnalysisResults, m004Stems, m005LinkMetadata, m006Settings, m007Reserved, m008Reserved, m009TagBackups];
