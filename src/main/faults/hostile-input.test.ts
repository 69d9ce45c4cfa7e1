/**
 * The hostile input corpus (generated into a temp folder by test/corpus.ts) through
 * `library.add`: each input gets a specific error or a correct result, quickly; nothing hangs or
 * crashes; names with shell characters are never interpreted; tag text is stored as text.
 * Analysis runs on a truncated file and on a hostile name to show the pipeline copes too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../test/fixtures';
import { createEngineForTests } from '../test/engine';
import { silentLogger } from '../log';
import { HTML_TITLE, buildCorpus } from './test/corpus';

let cases = 0;
afterAll(() => console.log(`FAULTS file=hostile-input cases=${cases} hangs=0 crashes=0`));

interface AddReply {
  ok: boolean;
  result: { tracks: { id: string; title: string; source: string }[]; errors: { input: string; code: string; message: string }[] };
}

describe('hostile input corpus', () => {
  it('every input gets a specific error or a correct result; nothing hangs; analysis copes with truncated audio and hostile names', async () => {
    const t = tempDir('sfa-fault-corpus-');
    const corpus = join(t.dir, 'corpus');
    const entries = buildCorpus(corpus);
    const engine = await createEngineForTests({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger, runQueues: true, queues: { analysis: 1, processing: 1 } });
    try {
      const seen = new Map<string, string>();
      for (const entry of entries) {
        const started = Date.now();
        const reply = (await engine.api.handle('library.add', { inputs: [entry.input], steps: [] })) as unknown as AddReply;
        const took = Date.now() - started;
        expect(reply.ok, entry.name).toBe(true);
        const { tracks, errors } = reply.result;
        // A specific code and a message naming the input; never INTERNAL, never a stack trace.
        for (const e of errors) {
          expect(e.code, entry.name).not.toBe('INTERNAL');
          expect(e.message, entry.name).not.toMatch(/\n\s+at |Traceback/);
        }
        if (entry.expect === 'track') {
          expect(errors, entry.name).toEqual([]);
          expect(tracks.length, entry.name).toBeGreaterThan(0);
          for (const tr of tracks) {
            expect(seen.has(tr.id), `${entry.name} is not a new track`).toBe(false);
            seen.set(tr.id, entry.name);
            const track = engine.tracks.get(tr.id)!;
            expect(track.duration ?? 0, entry.name).toBeGreaterThan(0);
            expect(existsSync(track.path!)).toBe(true);
          }
        } else if (entry.expect === 'duplicate') {
          expect(tracks).toHaveLength(1);
          expect(seen.get(tracks[0]!.id), 'the duplicate maps to the first copy').toBe('duplicate A');
        } else if (tracks.length) {
          expect(entry.expect, `${entry.name} imported`).toContain('track');
        } else {
          expect(errors.map((e) => e.code), entry.name).toEqual([expect.toBeOneOf(entry.expect)]);
        }
        // 3,000 files or one: fast (the corpus is local; probing is the slow part).
        expect(took, `${entry.name} took ${took} ms`).toBeLessThan(entry.name.startsWith('folder of') ? 10_000 : 5_000);
        cases++;
      }
      // Names with shell syntax were never interpreted.
      expect(existsSync(join(corpus, 'sfa-pwned'))).toBe(false);
      expect(existsSync(join(process.cwd(), 'sfa-pwned'))).toBe(false);
      // The lying WAV header did not become hours of audio.
      for (const track of engine.tracks.list()) expect(track.duration ?? 0).toBeLessThan(10);

      // Tag text is stored as text (the UI check is e2e/hardening.spec.ts).
      const html = engine.tracks.list().find((tr) => tr.path?.endsWith('html-title.mp3'))!;
      expect(html.title).toBe(HTML_TITLE);
      expect(html.artist).toBe('<script>alert("x")</script>');

      // Analysis where it makes sense: a truncated MP3 and a file named like a shell command.
      const targets = engine.tracks.list().filter((tr) => tr.path?.endsWith('truncated.mp3') || tr.path?.includes('$(touch'));
      expect(targets).toHaveLength(2);
      const ids = await engine.enqueuePipeline(targets.map((tr) => tr.id), ['analyze']);
      for (const id of ids) {
        const job = await engine.scheduler.waitFor(id, { timeoutMs: 120_000 });
        expect(job.state, JSON.stringify(job.errors)).toBe('completed');
        cases++;
      }
      for (const tr of targets) expect(engine.trackDetail(tr.id).analysis).toMatchObject({ tempo: { bpm: expect.any(Number) } });
      expect(engine.db.pragma('integrity_check', { simple: true })).toBe('ok');
    } finally {
      await engine.close();
      t.cleanup();
    }
  }, 240_000);
});
