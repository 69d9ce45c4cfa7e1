import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir, writeSine } from '../../test/fixtures';
import { createEngine } from '../engine';
import { silentLogger } from '../log';
import { bundledFfmpeg, chosenFfmpeg, setConfiguredFfmpeg } from './ffmpeg';
import { recordingFfmpeg } from './test/recording-ffmpeg';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  setConfiguredFfmpeg(null);
});

describe('the ffmpeg path setting', () => {
  it('reaches the sidecar, and applies at once when changed (no restart)', async () => {
    if (process.env.SFA_FFMPEG) return console.log('skipped: SFA_FFMPEG is set in the environment and takes precedence over the setting');
    if (process.platform === 'win32') return console.log('skipped: the recording ffmpeg stand-in is a POSIX shell script');
    const t = tempDir();
    cleanups.push(t.cleanup);
    const engine = await createEngine({ home: join(t.dir, 'home'), host: 'cli', logger: silentLogger });
    cleanups.push(() => engine.close());
    const bundled = await bundledFfmpeg();
    const custom = recordingFfmpeg(t.dir, bundled);
    let freq = 220; // a new tone each time: the same bytes would be found by hash, not probed again
    const add = async (name: string) => {
      const reply = await engine.api.handle('library.add', { inputs: [writeSine(join(t.dir, name), 0.5, { freq: (freq += 110) })], steps: [] });
      expect(reply).toMatchObject({ ok: true, result: { tracks: [expect.anything()], errors: [] } });
    };
    await add('before.wav'); // the probe sidecar is now warm, started with the bundled ffmpeg
    expect(custom.uses()).toBe(0);

    expect((await engine.api.handle('settings.set', { toolPaths: { ffmpeg: custom.path } })).ok).toBe(true);
    await add('with-setting.wav');
    expect(custom.uses()).toBe(1);
    expect(await bundledFfmpeg()).toBe(custom.path);

    await engine.api.handle('settings.set', { toolPaths: { ffmpeg: null } });
    await add('after.wav');
    expect(custom.uses()).toBe(1);
    expect(chosenFfmpeg()).toBeNull();
  });
});
