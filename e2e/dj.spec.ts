import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { createEngineForTests as createEngine } from '../src/main/test/engine';
import { silentLogger } from '../src/main/log';
import { analysisResult } from '../src/test/analysis';
import { beatWav } from './audio';
import { ownServer, screenshot } from './support';

// Its own server and library. The track's analysis and stems are put in place through the engine
// (pipeline.spec covers computing them; on a busy machine that takes minutes), then every
// DJ-software item is used from the selection menu and the track view.

async function prepareLibrary(home: string): Promise<void> {
  const engine = await createEngine({ home, host: 'cli', logger: silentLogger });
  try {
    const dir = join(home, 'music');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'DJ Beat 124.wav');
    writeFileSync(file, beatWav({ seconds: 4, bpm: 124 }));
    await engine.api.handle('library.add', { inputs: [file], steps: [] });
    const track = engine.tracks.list()[0]!;
    // Where separation puts stems (the media route serves only the library's own folders).
    const stemDir = join(engine.paths.stems, track.id);
    mkdirSync(stemDir, { recursive: true });
    const beats = Array.from({ length: 8 }, (_, i) => 0.05 + (i * 60) / 124);
    engine.analyses.save(track.id, null, analysisResult({
      source: 'mix', duration: 4, tempo: { bpm: 124, confidence: 0.9, beats }, key: { key: 'A minor', tonic: 'A', mode: 'minor', camelot: '8A', open_key: '1m', confidence: 0.8 },
      energy: { rms_mean: 0.1, zcr_mean: 0.05, level: 6 }, spectral: { centroid_mean: 1000, rolloff_mean: 2000 },
    }));
    engine.stems.register(
      ['drums', 'bass', 'other', 'vocals'].map((stem) => {
        const path = join(stemDir, `${stem}.wav`);
        writeFileSync(path, beatWav({ seconds: 4, bpm: 124 }));
        return { trackId: track.id, jobId: null, model: 'dsp', optionsKey: 'e2e', stem, path, size: 1, duration: 4, format: 'wav', device: 'cpu' };
      }),
    );
  } finally {
    await engine.close();
  }
}

test('DJ software: tags, rekordbox, Traktor, M3U8 and NI Stems from the library and the track view', async ({ page }) => {
  test.setTimeout(180_000);
  const srv = await ownServer({}, 'sfa-e2e-dj-');
  try {
    await prepareLibrary(srv.home);
    await page.goto(`${srv.url}/?token=${srv.token}`);
    await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
    const row = page.getByRole('row', { name: /DJ Beat 124/ });
    await expect(row.locator('[data-col="bpm"]')).toHaveText(/124/);

    await row.click();
    const bar = page.getByRole('toolbar', { name: 'Selected tracks' });
    const menu = async (item: string) => {
      await bar.getByText('DJ software').click();
      await page.getByRole('menuitem', { name: item }).click();
    };
    await menu('Write tags');
    await expect(page.getByRole('status').filter({ hasText: 'Wrote tags into 1 file' })).toBeVisible();
    await menu('Export to rekordbox…');
    await expect(page.getByRole('status').filter({ hasText: 'Exported 1 track' }).first()).toBeVisible();
    await menu('Export to Traktor…');
    await menu('Export NI Stems…');
    await expect(page.getByRole('status').filter({ hasText: 'Wrote 1 NI Stems file' })).toBeVisible({ timeout: 60_000 });
    await screenshot(page, '30-dj-menu-exports');

    const exports = join(srv.home, 'exports');
    const written = existsSync(exports) ? readdirSync(exports) : [];
    expect(written.filter((f) => f.endsWith('.xml'))).toHaveLength(1);
    expect(written.filter((f) => f.endsWith('.nml'))).toHaveLength(1);
    const xml = readFileSync(join(exports, written.find((f) => f.endsWith('.xml'))!), 'utf8');
    expect(xml).toContain('Name="DJ Beat 124"');
    const stemDir = written.find((f) => f.startsWith('stems-'))!;
    expect(readdirSync(join(exports, stemDir))).toEqual(['DJ Beat 124.stem.mp4']);

    // The track view: the file's tags beside ours, and the same menu.
    await page.getByRole('button', { name: 'Open DJ Beat 124' }).click();
    await expect(page.getByTestId('file-tags')).toContainText(/In the file's tags: \d+ BPM/);
    await expect(page.getByTestId('file-tags')).toContainText('written by us, restorable');
    await page.getByText('DJ software').click();
    await page.getByRole('menuitem', { name: 'Restore tags' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Restored the tags of 1 file' })).toBeVisible();
    await expect(page.getByTestId('file-tags')).toContainText('no BPM');
    await screenshot(page, '31-dj-track-view');
  } finally {
    await srv.stop();
  }
});
