import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrackListItem } from '../../shared/domain';
import { referenceFilter } from '../../renderer/test/reference-query';
import { analysisResult } from '../../test/analysis';
import { tempDir } from '../../test/fixtures';
import { openDatabase } from '../db/connection';
import { migrate } from '../db/migrate';
import { migrations } from '../db/migrations';
import { AnalysisRepository } from './analyses';
import { listTracks } from './listing';
import { LibraryListing } from './listing-query';
import { StemRepository } from './stems';
import { TrackRepository } from './tracks';

const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** Titles, artists and albums that tell substring from word-prefix search, and case folding. */
const FIXTURE: [title: string, artist: string | null, album: string | null, key: [string, string] | null][] = [
  ['Midnight City', 'M83', 'Hurry Up, We\u2019re Dreaming', ['A minor', '8A']],
  ['Nightcall', 'Kavinsky', 'OutRun', ['C major', '8B']],
  ['Tonight', null, null, ['F# minor', '11A']],
  ['\u00c9mile\u2019s \u00c9tude', '\u00c9lodie', 'Caf\u00e9 Sessions', ['E minor', '9A']],
  ['\u00c4rger im Stra\u00dfenverkehr', 'Die \u00c4rzte', null, ['D minor', '7A']],
  ['100% Pure', 'Under_Score', 'Back\\slash', ['B major', '1B']],
  ['Say "Hi"', 'Quote Band', null, null],
  ['Eleven A', 'The 11A Club', null, ['G# minor', '1A']],
  ['\u0130stanbul Nights', 'Ke\u015fi\u015f', null, null],
  ['Drive', 'Sunset Trio', 'Neon', ['A minor', '8A']],
  ['drive slow', 'sunset trio', 'neon', null],
  ['Minor Threat', 'Major Lazer', 'Keys', ['Db major', '3B']],
];

const QUERIES = [
  'ight', 'IGHT', 'night', 'Midnight', 'midnight city', 'city midnight', 'a minor', 'A minor', 'minor', 'major', '8A', '8a', '1a', '11a',
  '1', 'a', 'i', 'm', 'mi', 'é', 'É', 'éti', 'ÉMILE', 'ä', 'är', 'ärger', 'straße', 'ß', '100%', '%', '_', 'der_', '\\', 'k\\s', '"', '"hi"', 'say "hi',
  'İ', 'i̇stanbul', 'istanbul', 'ist', 'nights', 'keş', 'ş', 'sunset dri', 'trio 8a', 'neon drive', 'up, we', '\u2019', 'f#', '#', 'quasar', '  spaced   out  ',
];

function library(rareMatches?: number) {
  const t = tempDir();
  cleanups.push(t.cleanup);
  const db = openDatabase(join(t.dir, 'db.sqlite'));
  cleanups.push(() => db.close());
  migrate(db, migrations);
  const repos = { tracks: new TrackRepository(db), analyses: new AnalysisRepository(db), stems: new StemRepository(db) };
  for (const [title, artist, album, key] of FIXTURE) {
    const track = repos.tracks.insert({ title, artist, album, sourceKind: 'file', source: `/music/${title}`, path: null, contentHash: null, duration: 200, sampleRate: null, channels: null, codec: null, status: 'ready', spotifyId: null, youtubeId: null, isrc: null, coverUrl: null, downloadSize: null });
    if (key) repos.analyses.save(track.id, null, analysisResult({ key: { key: key[0], camelot: key[1] } }));
  }
  // denseShare 1: the index for every word up to `rareMatches`, however common in this small library.
  return { db, repos, listing: new LibraryListing(db, repos.tracks, repos.stems, rareMatches, 1) };
}

const ids = (tracks: readonly TrackListItem[]) => tracks.map((t) => t.id).sort();

describe('library search in SQLite', () => {
  it('finds the same tracks as the renderer\u2019s former search, query by query', () => {
    const lib = library();
    const all = listTracks(lib.repos);
    expect(all).toHaveLength(FIXTURE.length);
    for (const search of QUERIES) {
      const expected = ids(referenceFilter(all, { search }));
      const page = lib.listing.list({ search, limit: 1000 });
      expect({ search, found: ids(page.tracks), total: page.total }).toEqual({ search, found: expected, total: expected.length });
    }
  });

  it('finds the same tracks when it scans the texts in the sort\u2019s order as when it reads the index', () => {
    // rareMatches 0: any word the index finds counts as common, so every search scans.
    const scanning = library(0);
    const all = listTracks(scanning.repos);
    for (const search of QUERIES) {
      const expected = ids(referenceFilter(all, { search }));
      const page = scanning.listing.list({ search, limit: 1000 });
      expect({ search, found: ids(page.tracks), total: page.total }).toEqual({ search, found: expected, total: expected.length });
      expect(scanning.listing.countMatches({ search }).total, search).toBe(expected.length);
    }
  });

  it('finds substrings and key names that word-prefix search missed', () => {
    const lib = library();
    const titles = (search: string) => lib.listing.list({ search }).tracks.map((t) => t.title).sort();
    expect(titles('ight')).toEqual(['Midnight City', 'Nightcall', 'Tonight', '\u0130stanbul Nights'].sort());
    expect(titles('A minor')).toEqual(expect.arrayContaining(['Drive', 'Midnight City', 'Tonight']));
    expect(titles('A minor')).not.toContain('Nightcall');
    expect(titles('11a')).toEqual(['Eleven A', 'Tonight']);
    expect(titles('\u00e9tude')).toEqual(['\u00c9mile\u2019s \u00c9tude']);
  });

  it('combines search with the BPM and key filters as the renderer did', () => {
    const lib = library();
    const all = listTracks(lib.repos);
    for (const [search, bpmMin, bpmMax, key] of [['i', 90, 110, '8A'], ['minor', null, 99, null], ['', 100, 100, '9A']] as const) {
      const expected = ids(referenceFilter(all, { search, bpmMin, bpmMax, key }));
      expect(ids(lib.listing.list({ search, bpmMin, bpmMax, camelot: key ? [key] : null, limit: 1000 }).tracks)).toEqual(expected);
    }
  });
});
