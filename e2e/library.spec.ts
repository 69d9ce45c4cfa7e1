import { expect, test } from '@playwright/test';
import { dropFiles, screenshot, server, sineWav } from './support';

// One server for the file (global-setup); tests run in order (workers: 1), the first on an empty library.

test.beforeEach(async ({ page }) => {
  const { url, token } = server();
  await page.goto(`${url}/?token=${token}`);
  // The token was traded for a cookie and dropped from the address bar.
  await expect(page).toHaveURL(`${url}/`);
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
});

test('an empty library says what to do', async ({ page }) => {
  await expect(page.getByRole('heading', { name: 'Your library is empty' })).toBeVisible();
  await expect(page.getByText('Drop audio files or whole folders anywhere on this window')).toBeVisible();
  await screenshot(page, '01-library-empty');
});

test('a dropped WAV is uploaded and shows in the library with its duration', async ({ page }) => {
  await dropFiles(page, [{ name: 'Sine Test 440.wav', bytes: sineWav({ seconds: 1 }) }], async () => {
    await expect(page.getByTestId('drop-overlay')).toBeVisible();
    await expect(page.getByText('Drop to add to your library')).toBeVisible();
    await screenshot(page, '02-drop-target');
  });
  const row = page.getByRole('row', { name: /Sine Test 440/ });
  await expect(row).toBeVisible();
  await expect(row.locator('[data-col="duration"]')).toHaveText('0:01');
  await expect(row.locator('[data-col="source"]')).toHaveText('File');
  // The pipeline starts on its own (dsp separation, then analysis): the status says where it is.
  await expect(row.locator('[data-col="status"]')).toHaveText(/queued|separating|analyzing|done/);
  await expect(page.getByRole('status').filter({ hasText: 'Added 1 track' })).toBeVisible();
  await screenshot(page, '03-library-one-track');
});

test('a file that is not audio is refused with its reason', async ({ page }) => {
  await dropFiles(page, [{ name: 'notes.wav', bytes: Buffer.from('this is not audio at all'), type: 'audio/wav' }]);
  const alert = page.getByRole('alert').filter({ hasText: 'Could not add 1 item' });
  await expect(alert).toBeVisible();
  // Named by the file's own name, not its path on the server.
  await expect(alert).toContainText('notes.wav');
  await expect(alert).toContainText('not an audio file');
  await expect(alert).not.toContainText('uploads');
  await screenshot(page, '04-not-audio-error');
});

test('an invalid link gets a clear error next to the box', async ({ page }) => {
  const box = page.getByLabel('Spotify or YouTube links');
  await box.fill('https://example.com/not-a-track');
  await page.getByRole('button', { name: 'Add links' }).click();
  const inline = page.locator('#link-errors');
  await expect(inline).toContainText('https://example.com/not-a-track: Not a supported link: unsupported site "example.com"');
  await expect(box).toHaveAttribute('aria-invalid', 'true');
  await screenshot(page, '05-invalid-link');
  // Editing the text clears the error.
  await box.fill('https://example.com/other');
  await expect(inline).toBeHidden();
});

test('a valid link is added as a pending track', async ({ page }) => {
  await page.getByLabel('Spotify or YouTube links').fill('https://www.youtube.com/watch?v=dQw4w9WgXcQ');
  await page.getByRole('button', { name: 'Add links' }).click();
  const row = page.getByRole('row', { name: /youtube\.com\/watch\?v=dQw4w9WgXcQ/ });
  await expect(row).toBeVisible();
  await expect(row.locator('[data-col="source"]')).toHaveText('YouTube');
  await expect(row.locator('[data-col="status"]')).toHaveText(/queued|downloading|waiting for download|failed/);
  await expect(page.getByLabel('Spotify or YouTube links')).toHaveValue('');
});

test('the system view lists each check', async ({ page }) => {
  test.setTimeout(150_000); // the doctor imports torch in the sidecar: tens of seconds on a cold machine
  await page.getByRole('button', { name: 'System' }).click();
  await expect(page.getByRole('heading', { name: 'System' })).toBeVisible();
  const checks = page.getByRole('table', { name: 'System checks' });
  await expect(checks.locator('tr[data-check="python"]')).toBeVisible({ timeout: 120_000 });
  const electronRow = checks.locator('tr[data-check="electron"]');
  await expect(electronRow).toBeVisible();
  // Each check shows its outcome; here the Electron binary is absent, and the row says why.
  await expect(electronRow.getByRole('img')).toHaveAccessibleName(/OK|Problem/);
  await expect(page.getByText('Browser (sfa serve)')).toBeVisible();
  await screenshot(page, '06-system');
});
