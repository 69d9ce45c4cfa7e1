import { m001Tracks } from './001_tracks';
import { m002Jobs } from './002_jobs';
import { m003AnalysisResults } from './003_analysis_results';
import { m004Stems } from './004_stems';
import { m005LinkMetadata } from './005_link_metadata';
import { m006Settings } from './006_settings';
import { m007TagBackups } from './007_tag_backups';
import { m008LibraryIndex } from './008_library_index';
import { m009JobNodes } from './009_job_nodes';
import { m010LibrarySearch } from './010_library_search';
import { m011TrackStatus } from './011_track_status';
import type { Migration } from './types';

/** Every migration, in order. Append only: shipped migrations are frozen (checked at start). */
export const migrations: readonly Migration[] = [m001Tracks, m002Jobs, m003AnalysisResults, m004Stems, m005LinkMetadata, m006Settings, m007TagBackups, m008LibraryIndex, m009JobNodes, m010LibrarySearch, m011TrackStatus];
