import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { beatWav } from './audio';
import { dropFiles, screenshot, server } from './support';

// Runs after library.spec (same server, workers: 1): the real pipeline with the dsp separator.

async function open(page: Page) {
  const { url, token } = server();
  await page.addInitScript(() => sessionStorage.setItem('sfa:debug', '1'));
  await page.goto(`${url}/?token=${token}`);
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
}

test.describe.configure({ mode: 'serial' });

test('two dropped files are separated and analysed: BPM and key show', async ({ page }) => {
  test.setTimeout(240_000);
  await open(page);
  await dropFiles(page, [
    { name: 'Beat Alpha 120.wav', bytes: beatWav({ seconds: 8, bpm: 120 }) },
    { name: 'Beat Bravo 100.wav', bytes: beatWav({ seconds: 8, bpm: 100, chord: [196, 246.94, 293.66] }) },
  ]);
  for (const name of ['Beat Alpha 120', 'Beat Bravo 100']) {
    const row = page.getByRole('row', { name: new RegExp(name) });
    await expect(row).toBeVisible();
    await expect(row.locator('[data-col="status"]')).toHaveText('done', { timeout: 200_000 });
    await expect(row.locator('[data-col="bpm"]')).not.toHaveText('—');
    await expect(row.locator('[data-col="key"]')).toHaveText(/\d{1,2}[AB]/);
    await expect(row.getByText(/4 stems/)).toBeVisible();
  }
  await screenshot(page, '10-library-analysed');
});

test('sort, search and "mixes with" filter the table', async ({ page }) => {
  await open(page);
  await page.getByLabel('Search the library').fill('bravo');
  await expect(page.getByRole('row', { name: /Beat Bravo/ })).toBeVisible();
  await expect(page.getByRole('row', { name: /Beat Alpha/ })).toBeHidden();
  await page.getByLabel('Search the library').fill('');
  await page.getByRole('row', { name: /Beat Alpha/ }).click();
  await expect(page.getByRole('toolbar', { name: 'Selected tracks' })).toContainText('1 selected');
  await page.getByRole('button', { name: /Mixes with this/ }).click();
  await expect(page.getByTestId('mixes-chip')).toBeVisible();
  await expect(page.getByRole('row', { name: /Beat Alpha/ })).toBeVisible();
  await screenshot(page, '11-library-selection-filter');
  await page.getByRole('button', { name: 'Clear the mixes-with filter' }).click();
  await page.getByRole('button', { name: /^BPM/ }).click();
  await expect(page.getByRole('columnheader', { name: /BPM/ })).toHaveAttribute('aria-sort', 'ascending');
  const bpms = async () =>
    page.$$eval('.library-table [role="row"][data-track-id]', (rows) =>
      rows
        .map((r) => ({ i: Number(r.getAttribute('aria-rowindex')), bpm: r.querySelector('[data-col="bpm"]')!.textContent! }))
        .sort((a, b) => a.i - b.i)
        .map((r) => r.bpm),
    );
  const values = (await bpms()).filter((b) => b !== '—').map(Number);
  expect(values.length).toBeGreaterThanOrEqual(2);
  expect([...values].sort((a, b) => a - b)).toEqual(values);
});

test('a track opens with a waveform lane per stem; solo drives the audio graph', async ({ page }) => {
  test.setTimeout(90_000);
  await open(page);
  await page.getByRole('button', { name: 'Open Beat Alpha 120' }).click();
  await expect(page.getByRole('heading', { name: 'Beat Alpha 120' })).toBeVisible();
  await expect(page.getByTestId('analysis-bpm')).toContainText('BPM');
  // One lane per stem (data-lane), under the bar ruler drawn from the analysis's beat grid.
  const lanes = page.locator('.lane[data-lane]');
  await expect(lanes).toHaveCount(4);
  await expect(page.locator('.lane[data-lane] canvas.waveform')).toHaveCount(4, { timeout: 60_000 });
  expect(await page.locator('.bar-ruler-lane .bar-mark').count()).toBeGreaterThan(0);
  await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled({ timeout: 30_000 });
  await page.getByRole('button', { name: 'Solo drums' }).click();
  const gains = await page.evaluate(() => window.__sfaPlayer!.gains());
  expect(gains).toEqual({ vocals: 0, drums: 1, bass: 0, other: 0 });
  // Keyboard: 1 solos the first lane (vocals) instead; m mutes the selected lane.
  await page.locator('body').press('1');
  expect(await page.evaluate(() => window.__sfaPlayer!.gains())).toEqual({ vocals: 1, drums: 0, bass: 0, other: 0 });
  await page.locator('body').press('m');
  expect((await page.evaluate(() => window.__sfaPlayer!.gains())).vocals).toBe(0);
  await page.locator('body').press('m');
  await page.getByRole('button', { name: 'Play' }).click();
  await expect.poll(() => page.evaluate(() => window.__sfaPlayer!.playing())).toBe(true);
  await page.locator('.lane[data-lane="drums"] .lane-wave-inner').click({ position: { x: 200, y: 20 } });
  await expect(page.getByTestId('time')).not.toHaveText(/^0:00\.0 \//);
  await screenshot(page, '12-track-stems');
  await page.getByRole('button', { name: 'Pause' }).click();
  // Per-stem downloads from the authenticated media route.
  const href = await page.locator('.export-panel a', { hasText: 'drums' }).getAttribute('href');
  const res = await page.request.get(new URL(href!, server().url).toString(), { headers: { Range: 'bytes=0-3' } });
  expect(res.status()).toBe(206);
  expect((await res.body()).toString('ascii')).toBe('RIFF');
});

test('exporting the analysis as CSV downloads a file that parses', async ({ page }) => {
  await open(page);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('.export-all').getByRole('button', { name: 'CSV' }).click()]);
  const text = readFileSync((await download.path())!, 'utf8');
  const lines = text.trim().split(/\r\n/);
  expect(lines[0]!.split(',').slice(0, 6)).toEqual(['id', 'title', 'artist', 'bpm', 'key', 'camelot']);
  expect(lines.length).toBeGreaterThanOrEqual(3); // header + the two beats (+ library.spec's sine)
  const alpha = lines.find((l) => l.includes('Beat Alpha 120'))!.split(',');
  expect(Number(alpha[3])).toBeGreaterThan(40);
  expect(alpha[5]).toMatch(/^\d{1,2}[AB]$/);
});

test('a pasted invalid link gets a clear error', async ({ page }) => {
  await open(page);
  await page.locator('body').click({ position: { x: 600, y: 700 } });
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.setData('text/plain', 'https://example.com/not-a-track');
    document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
  });
  const alert = page.getByRole('alert').filter({ hasText: 'Could not add the pasted link' });
  await expect(alert).toContainText('Not a supported link: unsupported site "example.com"');
  await screenshot(page, '13-paste-invalid-link');
});

test('a long job shows live progress, survives a reload, and can be cancelled', async ({ page }) => {
  test.setTimeout(180_000);
  await open(page);
  // Analysis waits behind separation; separation of a long file takes a while on 2 cores.
  await dropFiles(page, [{ name: 'Long Mix.wav', bytes: beatWav({ seconds: 600, bpm: 126, sampleRate: 22_050 }) }]);
  const row = page.getByRole('row', { name: /Long Mix/ });
  await expect(row.locator('[data-col="status"]')).toHaveText(/separating \d+%/, { timeout: 90_000 });
  await page.getByRole('button', { name: /^Jobs/ }).click();
  const job = page.getByRole('listitem', { name: /separate Long Mix/ });
  const bar = job.getByRole('progressbar');
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow')), { timeout: 60_000 }).toBeGreaterThan(0);
  await screenshot(page, '14-jobs-running');
  const before = Number(await bar.getAttribute('aria-valuenow'));
  await page.reload();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  await page.getByRole('button', { name: /^Jobs/ }).click();
  // The stored snapshot shows at once after the reload (it may lag the live figure by the 1 s
  // between snapshot writes), then live events move it on: the dsp separator reports at least
  // every few seconds on a 10-minute file.
  const after = page.getByRole('listitem', { name: /separate Long Mix/ }).getByRole('progressbar');
  await expect(after).toBeVisible({ timeout: 5_000 });
  await expect.poll(async () => Number(await after.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThanOrEqual(Math.min(before, 1));
  await page.getByRole('listitem', { name: /separate Long Mix/ }).getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('listitem', { name: /separate Long Mix/ })).toHaveAttribute('data-state', 'cancelled', { timeout: 30_000 });
  await screenshot(page, '15-jobs-cancelled');
});

test('settings show the default model and apply queue concurrency', async ({ page }) => {
  await open(page);
  await page.getByRole('button', { name: 'Settings' }).click();
  await expect(page.getByLabel('Default model')).toHaveValue('dsp');
  await page.getByLabel('analysis queue concurrency').fill('3');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved' })).toBeVisible();
  await expect(page.locator('.status-queue[data-queue="analysis"]')).toContainText('/3');
  await expect(page.getByRole('table', { name: 'Models' })).toBeVisible();
  await screenshot(page, '16-settings');
});
