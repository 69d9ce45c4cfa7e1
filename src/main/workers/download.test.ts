import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AddResult, Settings } from '../../shared/domain';
import { processAlive as alive, repoRoot, tempDir, writeSine } from '../../test/fixtures';
import type { EngineOptions } from '../engine';
import { createEngineForTests, type TestEngine } from '../test/engine';
import type { Job, JobState } from '../jobs';
import { silentLogger, type Logger } from '../log';
import { buildTinyModel } from '../models/test/helpers';
import { pythonEnvironment } from '../sidecar/environment';
import { denoPath } from '../system/doctor';
import { linkBackoff } from './download';

/**
 * The download and expand workers end to end: the real engine (scheduler, SQLite, probe sidecar)
 * on a temp home, with stand-ins for spotdl and yt-dlp (src/test/standins) that replay what the
 * real tools print and how they exit. Timeouts are shortened through the env.
 */
const standins = join(repoRoot, 'src', 'test', 'standins');
const fixture = tempDir('sfa-download-');
const log = join(fixture.dir, 'spawned.log');
const scenarios = join(fixture.dir, 'scenarios.json');
const ID = (c: string) => c.repeat(22).slice(0, 22);

beforeAll(() => {
  for (const f of ['spotdl.mjs', 'yt-dlp.mjs']) chmodSync(join(standins, f), 0o755);
  const ffmpeg = execFileSync(pythonEnvironment().python, ['-c', 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())'], { encoding: 'utf8' }).trim();
  const wav = writeSine(join(fixture.dir, 'fixture.wav'), 2);
  const mp3 = join(fixture.dir, 'fixture.mp3');
  execFileSync(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', wav, '-c:a', 'libmp3lame', '-b:a', '128k', mp3]);
  Object.assign(process.env, {
    SFA_SPOTDL_BIN: join(standins, 'spotdl.mjs'),
    SFA_YTDLP_BIN: join(standins, 'yt-dlp.mjs'),
    SFA_FFMPEG: ffmpeg,
    SFA_STANDIN_LOG: log,
    SFA_STANDIN_SCENARIOS: scenarios,
    SFA_STANDIN_AUDIO: mp3,
    SFA_STANDIN_DELAY_MS: '20',
    SFA_DOWNLOAD_STALL_SECONDS: '1.5',
    SFA_DOWNLOAD_KILL_GRACE_SECONDS: '0.5',
  });
});
afterAll(() => fixture.cleanup());

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(scenarioMap: Record<string, unknown> = {}, options: Partial<EngineOptions> = {}): Promise<{ engine: TestEngine; home: string }> {
  writeFileSync(scenarios, JSON.stringify(scenarioMap));
  for (const f of readdirSync(fixture.dir)) if (f.startsWith('scenarios.json.')) writeFileSync(join(fixture.dir, f), '0');
  writeFileSync(log, '');
  const t = tempDir();
  cleanups.push(t.cleanup);
  const home = join(t.dir, 'home');
  const engine = await createEngineForTests({ home, host: 'cli', logger: silentLogger, runQueues: true, ...options });
  cleanups.push(() => engine.close());
  // Separation would need Demucs: keep those jobs waiting and look at their state.
  engine.scheduler.pauseQueue('processing');
  engine.scheduler.pauseQueue('analysis');
  return { engine, home: resolve(home) };
}

async function add(engine: TestEngine, inputs: string[], steps: string[] = ['separate', 'analyze']): Promise<AddResult> {
  const reply = await engine.api.handle('library.add', { inputs, steps });
  if (!reply.ok) throw new Error(`${reply.error.code}: ${reply.error.message}`);
  return reply.result as AddResult;
}

async function until<T>(what: string, fn: () => T | undefined | null | false, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const jobOf = (engine: TestEngine, trackId: string, worker: string) => engine.scheduler.listJobs({ trackId }).find((j) => j.worker === worker);
const jobIn = (engine: TestEngine, trackId: string, worker: string, states: JobState[]) => {
  const j = jobOf(engine, trackId, worker);
  return j && states.includes(j.state) ? j : undefined;
};
const spawned = (): { tool: string; argv: string[]; pid: number }[] =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { tool: string; argv: string[]; pid: number });

describe('DownloadWorker with spotdl', () => {
  it('downloads a track into <home>/media/downloads/<trackId>.mp3, probes it, fills its metadata, then releases separate -> analyze', async () => {
    const { engine, home } = await setup();
    const url = `https://open.spotify.com/intl-de/track/${ID('a')}?si=123`;
    const progress: number[] = [];
    engine.events.subscribe((event, payload) => {
      if (event === 'job:progress') progress.push((payload as { percent: number }).percent);
    });
    const { tracks, errors } = await add(engine, [url]);
    expect(errors).toEqual([]);
    const id = tracks[0]!.id;
    const download = await until('download completed', () => jobIn(engine, id, 'download', ['completed', 'discarded', 'retryable']));
    expect(download.state).toBe('completed');

    const track = engine.tracks.get(id)!;
    expect(track).toMatchObject({
      status: 'ready',
      path: join(home, 'media', 'downloads', `${id}.mp3`),
      title: 'Song 1',
      artist: 'Stand-in Artist, Guest',
      album: 'Stand-in Album',
      source: `https://open.spotify.com/track/${ID('a')}`,
      spotifyId: ID('a'),
      isrc: 'ZZAAAAAAAAAA',
      coverUrl: 'https://i.scdn.co/image/cover1',
      sampleRate: 44_100,
      channels: 2,
      codec: 'mp3',
    });
    expect(track.duration).toBeGreaterThan(1.9);
    expect(track.downloadSize).toBe(readFileSync(track.path!).length);
    expect(readdirSync(join(home, 'media', 'downloads'))).toEqual([`${id}.mp3`]); // no temp folder left
    expect(progress.length).toBeGreaterThan(2);
    expect(progress[progress.length - 1]).toBe(100);

    // The chain: separate became available in the completing transaction; analyze waits on it.
    expect(jobOf(engine, id, 'separate')!.state).toBe('available');
    expect(jobOf(engine, id, 'analyze')!.state).toBe('scheduled');

    const [run] = spawned();
    expect(run!.tool).toBe('spotdl');
    const a = run!.argv;
    expect(a.slice(-3)).toEqual(['download', '--', `https://open.spotify.com/track/${ID('a')}`]);
    expect(a[a.indexOf('--format') + 1]).toBe('mp3');
    expect(a[a.indexOf('--bitrate') + 1]).toBe('320k');
    expect(a[a.indexOf('--ffmpeg') + 1]).toBe(process.env.SFA_FFMPEG);
    expect(a).toContain('--simple-tui');
    // Everything the tool writes is under <home>.
    for (const flag of ['--output', '--save-file']) expect(a[a.indexOf(flag) + 1]!.startsWith(join(home, 'media', 'downloads'))).toBe(true);
  });

  it('a "LookupError: No results found" with exit 0 is a failure: discarded, the track failed, the pipeline cancelled', async () => {
    const { engine } = await setup({ [ID('b')]: 'lookup' });
    const { tracks } = await add(engine, [`spotify:track:${ID('b')}`]);
    const id = tracks[0]!.id;
    const job = await until('download discarded', () => jobIn(engine, id, 'download', ['discarded', 'completed']));
    expect(job.state).toBe('discarded');
    expect(job.errors[0]).toMatchObject({ code: 'NO_MATCH', error: expect.stringContaining('No results found for song') });
    const track = await until('track failed', () => engine.tracks.get(id)!.status === 'failed' && engine.tracks.get(id)!);
    expect(track.error).toMatch(/^Download failed: LookupError: No results found/);
    expect(track.path).toBeNull();
    expect(jobOf(engine, id, 'separate')!.state).toBe('cancelled');
  });

  it('an AudioProviderError with exit 0 is retried (not completed)', async () => {
    const { engine } = await setup({ [ID('c')]: 'provider' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('c')}`], []);
    const job = await until('download retryable', () => jobIn(engine, tracks[0]!.id, 'download', ['retryable', 'completed', 'discarded']));
    expect(job.state).toBe('retryable');
    expect(job.errors[0]).toMatchObject({ code: 'DOWNLOAD_FAILED', error: expect.stringContaining('AudioProviderError') });
    expect(engine.tracks.get(tracks[0]!.id)!.status).toBe('pending');
  });

  it('a short rate limit ("Retry will occur after: 30") kills the tool at once and retries after 60 * 2^(attempt-1) s', async () => {
    const { engine } = await setup({ [ID('d')]: 'ratelimit-short' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('d')}`], []);
    const started = Date.now();
    const job = await until('download retryable', () => jobIn(engine, tracks[0]!.id, 'download', ['retryable', 'completed', 'discarded']));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(job.errors[0]).toMatchObject({ attempt: 1, code: 'RATE_LIMITED', error: expect.stringContaining('Your own Spotify app') });
    expect(job.scheduledAt - Date.parse(job.errors[0]!.at)).toBe(60_000);
    await until('stand-in killed', () => !alive(spawned()[0]!.pid));
    // Later attempts double it; other errors keep the default backoff.
    const rate = { code: 'RATE_LIMITED', message: 'x' };
    const random = () => 0;
    expect([1, 2, 3].map((attempt) => linkBackoff({ ...job, attempt } as Job<never>, rate, { random }))).toEqual([60, 120, 240]);
    expect(linkBackoff({ ...job, attempt: 1 } as Job<never>, new Error('x'), { random })).toBe(7);
  });

  it('a day-long rate limit ("Retry will occur after: 86400") reschedules the download for then instead of using up its attempts', async () => {
    const { engine } = await setup({ [ID('d')]: 'ratelimit' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('d')}`], []);
    const started = Date.now();
    const job = await until('download snoozed', () => jobIn(engine, tracks[0]!.id, 'download', ['scheduled', 'retryable', 'discarded']));
    expect(job).toMatchObject({ state: 'scheduled', errors: [] });
    expect(job.maxAttempts - job.attempt).toBe(3); // the attempt did not count
    expect(job.scheduledAt - started).toBeGreaterThan(86_000_000);
    expect(job.scheduledAt - started).toBeLessThan(86_500_000);
    await until('stand-in killed', () => !alive(spawned()[0]!.pid));
    expect(engine.tracks.get(tracks[0]!.id)!.status).toBe('pending');
  });

  it("with the user's own Spotify app (settings; the secret in the secret store) spotdl is given it, and the secret appears nowhere else", async () => {
    const { engine, home } = await setup({ [ID('g')]: 'ratelimit-shared' });
    const clientId = 'a'.repeat(32);
    const clientSecret = 'f00d'.repeat(8);
    const set = await engine.api.handle('settings.set', { spotify: { clientId, clientSecret } });
    expect(set.ok && (set.result as Settings).spotify).toEqual({ clientId, clientSecretStored: true, secretStore: 'file' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('g')}`], []);
    const job = await until('download done', () => jobIn(engine, tracks[0]!.id, 'download', ['completed', 'scheduled', 'retryable', 'discarded']));
    expect(job.state).toBe('completed');
    const argv = spawned()[0]!.argv;
    expect(argv.slice(argv.indexOf('--client-id'), argv.indexOf('--client-id') + 4)).toEqual(['--client-id', clientId, '--client-secret', clientSecret]);
    // not in the job rows, settings, the log or diagnostics; the file holding it is the user's alone
    const db = JSON.stringify(engine.db.prepare('SELECT * FROM jobs').all()) + JSON.stringify(engine.db.prepare('SELECT * FROM settings').all());
    expect(db).not.toContain(clientSecret);
    const settings = await engine.api.handle('settings.get', {});
    expect(JSON.stringify(settings)).not.toContain(clientSecret);
    const diagnostics = await engine.api.handle('system.diagnostics', {});
    expect(diagnostics.ok && JSON.stringify(diagnostics.result)).not.toContain(clientSecret);
    if (process.platform !== 'win32') expect(statSync(join(home, 'secrets.json')).mode & 0o777).toBe(0o600);
    // clearing the id forgets the secret too
    await engine.api.handle('settings.set', { spotify: { clientId: null } });
    expect(existsSync(join(home, 'secrets.json'))).toBe(false);
  });

  it('without its own app, spotdl\'s shared one stays limited (the message says how to use an own app)', async () => {
    const { engine } = await setup({ [ID('h')]: ['ratelimit-short', 'ratelimit-shared'] });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('h')}`], []);
    const job = await until('download retryable', () => jobIn(engine, tracks[0]!.id, 'download', ['retryable', 'completed', 'discarded']));
    expect(job.errors[0]!.error).toMatch(/sfa spotify --client-id/);
    expect(spawned()[0]!.argv).not.toContain('--client-id');
  });

  it('a crash (traceback, exit 1) is retried with its message; after the last attempt the track is failed', async () => {
    const { engine } = await setup({ [ID('e')]: 'crash' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('e')}`], []);
    const id = tracks[0]!.id;
    let job = await until('attempt 1', () => jobIn(engine, id, 'download', ['retryable']));
    expect(job.errors[0]!.error).toBe("spotdl failed (exit 1): SpotifyError: Couldn't get metadata, check if you have passed correct track id");
    engine.scheduler.retry(job.id);
    job = await until('attempt 2', () => jobIn(engine, id, 'download', ['retryable'])?.attempt === 2 && jobOf(engine, id, 'download'));
    engine.scheduler.retry(job.id);
    job = await until('discarded', () => jobIn(engine, id, 'download', ['discarded']));
    expect(job.attempt).toBe(3);
    const track = await until('track failed', () => engine.tracks.get(id)!.status === 'failed' && engine.tracks.get(id)!);
    expect(track.error).toContain('SpotifyError');
  });

  it('a user cancel kills spotdl (which exits 0 on SIGTERM): the job ends cancelled, never completed, and nothing is registered', async () => {
    const { engine, home } = await setup({ [ID('f')]: 'cancel' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('f')}`]);
    const id = tracks[0]!.id;
    const job = await until('downloading', () => {
      const j = jobOf(engine, id, 'download');
      return j?.state === 'executing' && (j.progress?.percent ?? 0) >= 0 && spawned().length > 0 && j;
    });
    await new Promise((r) => setTimeout(r, 150)); // let it print "Downloading"
    const reply = await engine.api.handle('jobs.cancel', { id: job.id });
    expect(reply.ok).toBe(true);
    await until('stand-in gone', () => !alive(spawned()[0]!.pid), 5000);
    await new Promise((r) => setTimeout(r, 300)); // a late "success" would land now
    expect(engine.scheduler.getJob(job.id)!.state).toBe('cancelled');
    expect(engine.scheduler.getJob(job.id)!.completedAt).toBeNull();
    const track = engine.tracks.get(id)!;
    expect(track).toMatchObject({ status: 'failed', path: null });
    expect(track.error).toMatch(/^Download cancelled/);
    expect(jobOf(engine, id, 'separate')!.state).toBe('cancelled');
    expect(readdirSync(join(home, 'media', 'downloads'))).toEqual([]);
  });

  it('a tool that prints nothing is killed by the stall timeout (SIGKILL when it ignores SIGTERM) and retried', async () => {
    const { engine } = await setup({ [ID('g')]: 'stall' });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('g')}`], []);
    const job = await until('stalled', () => jobIn(engine, tracks[0]!.id, 'download', ['retryable', 'discarded', 'completed']), 10_000);
    expect(job.errors[0]).toMatchObject({ code: 'DOWNLOAD_STALLED' });
    expect(alive(spawned()[0]!.pid)).toBe(false);
  });

  it('runs one download per canonical URL: the same link twice (any spelling) is one track and one job', async () => {
    const { engine } = await setup({ [ID('h')]: 'stall' });
    const r = await add(engine, [`https://open.spotify.com/track/${ID('h')}`, `spotify:track:${ID('h')}`, `https://open.spotify.com/intl-fr/track/${ID('h')}?si=z`], []);
    expect(new Set(r.tracks.map((t) => t.id)).size).toBe(1);
    // A second insert for the same URL within 5 minutes (e.g. a retry from the UI) is refused.
    const [again] = await engine.scheduler.insertAll([{ worker: 'download', args: { trackId: r.tracks[0]!.id, url: `https://open.spotify.com/track/${ID('h')}` } }]);
    expect(again!.conflict).toBe(true);
    expect(engine.scheduler.listJobs({ worker: 'download' })).toHaveLength(1);
  });
});

/** A logger that keeps the info lines (the warm-up reports there). */
const infoRecorder = (lines: string[]): Logger => ({ ...silentLogger, info: (message: string) => void lines.push(message) });

describe('the separation model, loaded while the track downloads', () => {
  it('warms the model of the queued separation in a processing sidecar, and the separation uses that sidecar', async () => {
    const t = tempDir('sfa-warm-model-');
    cleanups.push(t.cleanup);
    const model = buildTinyModel(t.dir);
    const lines: string[] = [];
    const logger = infoRecorder(lines);
    const { engine } = await setup({}, { logger, separation: { model: 'tiny', repo: model.dir, device: 'cpu' } });
    expect(engine.sidecars.processing.processes).toBe(0);
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('w')}`]);
    const id = tracks[0]!.id;
    await until('download completed', () => jobIn(engine, id, 'download', ['completed', 'discarded', 'retryable']));
    const warmed = await until('the warm-up', () => lines.find((l) => l.startsWith('separation: tiny warm in')), 60_000);
    expect(warmed).toContain(`while track ${id} downloads`);
    // the processing queue is paused: the warm-up is what started this sidecar, and it holds the model
    expect(engine.sidecars.processing.processes).toBe(1);
    const again = await engine.sidecars.processing.run<{ warm: boolean }>('warm', { model: 'tiny', repo: model.dir, device: 'cpu' });
    expect(again.warm).toBe(true);
    engine.scheduler.resumeQueue('processing');
    const separated = await until('separation', () => jobIn(engine, id, 'separate', ['completed', 'discarded', 'retryable']), 60_000);
    expect(separated.state).toBe('completed');
    expect(engine.sidecars.processing.processes).toBe(1); // no cold process started beside the warm one
  }, 90_000);

  it('leaves a model the store does not hold yet alone (the job downloads it first)', async () => {
    const lines: string[] = [];
    const logger = infoRecorder(lines);
    const { engine } = await setup({}, { logger, separation: { model: 'htdemucs' } });
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('x')}`]);
    await until('download completed', () => jobIn(engine, tracks[0]!.id, 'download', ['completed', 'discarded', 'retryable']));
    await new Promise((r) => setTimeout(r, 300));
    expect(lines.filter((l) => l.startsWith('separation:'))).toEqual([]);
    expect(engine.sidecars.processing.processes).toBe(0);
  });
});

describe('expansion of albums and playlists', () => {
  const song = (songId: string, i: number, isrc: string) => ({
    name: `Listed ${i}`,
    artists: ['Lister'],
    artist: 'Lister',
    album_name: 'Lists',
    duration: 180,
    song_id: songId,
    url: `https://open.spotify.com/track/${songId}`,
    isrc,
    cover_url: `https://i.scdn.co/image/l${i}`,
  });

  it('an album becomes one pending track per song (title, artists, album, duration, ISRC, cover) each with its pipeline; songs already in the library are reused', async () => {
    const album = ID('k');
    const playlist = ID('m');
    const { engine } = await setup({
      [playlist]: { songs: [song(ID('p'), 1, 'USSFA2400002'), song(ID('q'), 2, 'GBXYZ9900001'), song(`S1${album.slice(2)}`, 3, 'USSFA2400001')] },
      [ID('q')]: { songs: [song(ID('q'), 2, 'GBXYZ9900001')] },
    });
    const { tracks } = await add(engine, [`https://open.spotify.com/album/${album}`], []);
    const placeholder = tracks[0]!.id;
    const expand = await until('expanded', () => jobIn(engine, placeholder, 'expand', ['completed', 'discarded', 'retryable']));
    expect(expand.state).toBe('completed');
    expect(engine.tracks.get(placeholder)).toBeUndefined(); // replaced by its songs
    const songs = engine.tracks.list().filter((t) => t.album === 'Stand-in Album');
    expect(songs.map((t) => t.spotifyId).sort()).toEqual([1, 2, 3].map((i) => `S${i}${album.slice(2)}`).sort());
    const s2 = songs.find((t) => t.title === 'Song 2')!;
    expect(s2).toMatchObject({ artist: 'Stand-in Artist, Guest', isrc: 'USSFA2400002', coverUrl: 'https://i.scdn.co/image/cover2', sourceKind: 'spotify', source: `https://open.spotify.com/track/S2${album.slice(2)}` });
    expect(s2.duration).toBeCloseTo(2, 0);
    // Each song runs its own download (all three complete here).
    for (const t of songs) await until(`download of ${t.title}`, () => jobIn(engine, t.id, 'download', ['completed']));
    expect(engine.tracks.list().filter((t) => t.status === 'ready')).toHaveLength(3);

    // A playlist listing song 2 under another id (same ISRC) and song 1 (same id): only the new one is added.
    const again = await add(engine, [`https://open.spotify.com/playlist/${playlist}?si=x`], []);
    await until('playlist expanded', () => jobIn(engine, again.tracks[0]!.id, 'expand', ['completed']));
    const all = engine.tracks.list();
    expect(all).toHaveLength(4);
    expect(all.filter((t) => t.isrc === 'GBXYZ9900001')).toHaveLength(1);
    const saveRuns = spotdlRuns('save');
    expect(saveRuns).toHaveLength(2);
    expect(saveRuns[0]!.slice(-3)).toEqual(['save', '--', `https://open.spotify.com/album/${album}`]);
    const added = all.find((t) => t.isrc === 'GBXYZ9900001')!;
    await until('download of the new song', () => jobIn(engine, added.id, 'download', ['completed']));
    expect(spotdlRuns('download')).toHaveLength(4); // 3 album songs + the one new playlist song
  });

  it('a YouTube playlist becomes one track per video, each downloaded by yt-dlp', async () => {
    const { engine } = await setup();
    const { tracks } = await add(engine, ['https://www.youtube.com/playlist?list=PLabcdefghij123'], []);
    await until('expanded', () => jobIn(engine, tracks[0]!.id, 'expand', ['completed']));
    const videos = engine.tracks.list();
    expect(videos.map((t) => t.title).sort()).toEqual(['Video 1', 'Video 2', 'Video 3']);
    for (const t of videos) await until(`download of ${t.title}`, () => jobIn(engine, t.id, 'download', ['completed']));
    expect(engine.tracks.list().every((t) => t.status === 'ready' && t.youtubeId)).toBe(true);
  });
});

function spotdlRuns(op: 'save' | 'download'): string[][] {
  return spawned()
    .filter((r) => r.tool === 'spotdl' && r.argv.includes(op))
    .map((r) => r.argv);
}

describe('DownloadWorker with yt-dlp', () => {
  it('downloads a YouTube video with progress and metadata', async () => {
    const { engine, home } = await setup();
    const { tracks } = await add(engine, ['https://youtu.be/dQw4w9WgXcQ?si=abc'], []);
    const id = tracks[0]!.id;
    const job = await until('download completed', () => jobIn(engine, id, 'download', ['completed', 'retryable', 'discarded']));
    expect(job.state).toBe('completed');
    expect(engine.tracks.get(id)).toMatchObject({
      status: 'ready',
      path: join(home, 'media', 'downloads', `${id}.mp3`),
      title: 'Video 1',
      artist: 'Stand-in Channel',
      youtubeId: 'dQw4w9WgXcQ',
      coverUrl: 'https://i.ytimg.com/vi/dQw4w9WgXcQ/maxresdefault.jpg',
      codec: 'mp3',
    });
    const a = spawned()[0]!.argv;
    expect(a.slice(-2)).toEqual(['--', 'https://www.youtube.com/watch?v=dQw4w9WgXcQ']);
    expect(a[a.indexOf('--ffmpeg-location') + 1]).toBe(process.env.SFA_FFMPEG);
    expect(a).toEqual(expect.arrayContaining(['--newline', '--progress', '-x', '--ignore-config', '--print', 'after_move:filepath']));
    for (const flag of ['-o', '--cache-dir']) expect(a[a.indexOf(flag) + 1]!.startsWith(home)).toBe(true);
  });

  it('exit 1 (ERROR: Video unavailable) is a retryable failure with the message', async () => {
    const { engine } = await setup({ dQw4w9WgXcQ: 'error' });
    const { tracks } = await add(engine, ['https://music.youtube.com/watch?v=dQw4w9WgXcQ&list=RD'], []);
    const job = await until('retryable', () => jobIn(engine, tracks[0]!.id, 'download', ['retryable', 'completed', 'discarded']));
    expect(job.state).toBe('retryable');
    expect(job.errors[0]).toMatchObject({ code: 'DOWNLOAD_FAILED', error: 'yt-dlp failed (exit 1): [youtube] dQw4w9WgXcQ: Video unavailable. This video is not available' });
  });
});

describe('the JavaScript runtime YouTube needs (yt-dlp >= 2025.11.12)', () => {
  it('is passed to yt-dlp (--js-runtimes deno:PATH) and to the yt-dlp inside spotdl (--yt-dlp-args)', async () => {
    const { engine } = await setup();
    const { tracks } = await add(engine, [`https://www.youtube.com/watch?v=${'j'.repeat(11)}`, `https://open.spotify.com/track/${ID('j')}`], []);
    for (const t of tracks) await until('downloaded', () => jobIn(engine, t.id, 'download', ['completed']));
    const deno = denoPath();
    const yt = spawned().find((r) => r.tool === 'yt-dlp')!.argv;
    expect(yt[yt.indexOf('--js-runtimes') + 1]).toBe(`deno:${deno}`);
    const spot = spawned().find((r) => r.tool === 'spotdl')!.argv;
    expect(spot[spot.indexOf('--yt-dlp-args') + 1]).toBe(`--js-runtimes 'deno:${deno}'`);
  });

  it('a yt-dlp that cannot use it fails the way yt-dlp does, and the user gets one clear message with the fix', async () => {
    const { engine } = await setup({ ['k'.repeat(11)]: 'no-js-runtime' });
    const { tracks } = await add(engine, [`https://www.youtube.com/watch?v=${'k'.repeat(11)}`], []);
    const job = await until('discarded', () => jobIn(engine, tracks[0]!.id, 'download', ['discarded', 'retryable', 'completed']));
    expect(job.state).toBe('discarded');
    expect(job.errors[0]).toMatchObject({ code: 'TOOL_MISSING', error: expect.stringMatching(/need the JavaScript runtime deno, and yt-dlp cannot use it .*Fix: run the setup again/) });
    const track = await until('track failed', () => engine.tracks.get(tracks[0]!.id)!.status === 'failed' && engine.tracks.get(tracks[0]!.id)!);
    expect(track.error).toContain('deno');
  });

  it('missing from the environment: the download stops before any tool starts, with the fix', async () => {
    const before = process.env.SFA_DENO_BIN;
    process.env.SFA_DENO_BIN = join(fixture.dir, 'no-such-deno');
    cleanups.push(() => {
      if (before === undefined) delete process.env.SFA_DENO_BIN;
      else process.env.SFA_DENO_BIN = before;
    });
    const { engine } = await setup();
    const { tracks } = await add(engine, [`https://open.spotify.com/track/${ID('m')}`, `https://www.youtube.com/watch?v=${'m'.repeat(11)}`], []);
    for (const t of tracks) {
      const job = await until('discarded', () => jobIn(engine, t.id, 'download', ['discarded', 'retryable', 'completed']));
      expect(job.errors[0]).toMatchObject({ code: 'TOOL_MISSING', error: expect.stringContaining('and it is not installed') });
    }
    expect(spawned()).toEqual([]);
  });
});

describe('injection', () => {
  it('rejects links crafted as options or carrying shell text before any process starts', async () => {
    const { engine } = await setup();
    const evil = [
      '--exec=touch /tmp/pwned',
      '-https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC',
      'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC;touch /tmp/pwned',
      'https://www.youtube.com/watch?v=$(touch /tmp/pwned)',
      'https://youtu.be/`id`',
      'https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC --output /etc/x',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'https://evil.example/watch?v=dQw4w9WgXcQ',
    ];
    const reply = await engine.api.handle('library.add', { inputs: evil });
    expect(reply.ok).toBe(true);
    const result = (reply as { result: AddResult }).result;
    expect(result.tracks).toEqual([]);
    // Not even link-shaped: reported as a missing file (exit 2 either way), never passed to a tool.
    expect(result.errors.map((e) => e.code)).toEqual(evil.map((e, i) => (i === 0 ? 'FILE_NOT_FOUND' : 'INVALID_LINK')));
    expect(result.errors[1]!.message).toContain('cannot start with "-"');
    expect(engine.scheduler.listJobs()).toEqual([]);

    // A job row that bypassed the importer (a bug, a tampered database) is refused by the worker too.
    const track = engine.tracks.insert({ title: 'x', artist: null, album: null, sourceKind: 'spotify', source: 'https://open.spotify.com/track/zzzzzzzzzzzzzzzzzzzzzz', path: null, contentHash: null, duration: null, sampleRate: null, channels: null, codec: null, status: 'pending' });
    const bad = ['--version', `https://open.spotify.com/track/${ID('z')}?x=--output=/tmp/evil`, 'https://open.spotify.com/track/../../etc', `https://open.spotify.com/album/${ID('z')}`];
    const inserted = await engine.scheduler.insertAll(bad.map((url) => ({ worker: 'download', args: { trackId: track.id, url }, unique: false as const })));
    for (const { job } of inserted) {
      const done = await until('discarded', () => {
        const j = engine.scheduler.getJob(job.id)!;
        return ['discarded', 'completed', 'retryable'].includes(j.state) && j;
      });
      expect(done).toMatchObject({ state: 'discarded', errors: [expect.objectContaining({ code: 'INVALID_LINK' })] });
    }
    expect(spawned()).toEqual([]);
    expect(existsSync('/tmp/pwned')).toBe(false);
  });
});
