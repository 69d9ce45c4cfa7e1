import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { dropFiles, ownServer, screenshot, sineWav } from './support';

const HTML_TITLE = '<img src=x onerror=alert(1)>';
const HTML_ARTIST = '<script>window.__sfaPwned = 1</script>';

/** An MP3 whose title and artist tags hold HTML, written by the bundled ffmpeg. */
function taggedMp3(): Buffer {
  const python = join(process.cwd(), 'python', '.venv', 'bin', 'python');
  const ffmpeg = execFileSync(python, ['-c', 'import imageio_ffmpeg;print(imageio_ffmpeg.get_ffmpeg_exe())'], { encoding: 'utf8' }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'sfa-e2e-tags-'));
  try {
    const wav = join(dir, 'in.wav');
    const mp3 = join(dir, 'out.mp3');
    writeFileSync(wav, sineWav({ seconds: 1.5, frequency: 523 }));
    execFileSync(ffmpeg, ['-nostdin', '-v', 'error', '-y', '-i', wav, '-metadata', `title=${HTML_TITLE}`, '-metadata', `artist=${HTML_ARTIST}`, '-c:a', 'libmp3lame', '-b:a', '96k', mp3]);
    return readFileSync(mp3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Its own server: the global one's library must start empty for library.spec.
let served: Awaited<ReturnType<typeof ownServer>>;
test.beforeAll(async () => {
  served = await ownServer();
});
test.afterAll(async () => {
  await served?.stop();
});

test('tag text is rendered as text, never as HTML', async ({ page }) => {
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const { url, token } = served;
  await page.goto(`${url}/?token=${token}`);
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  await dropFiles(page, [{ name: 'tagged.mp3', bytes: taggedMp3(), type: 'audio/mpeg' }]);

  // The title appears literally, as text.
  const row = page.getByRole('row').filter({ hasText: HTML_TITLE });
  await expect(row).toBeVisible();
  await expect(row).toContainText(HTML_TITLE);
  await screenshot(page, '20-html-in-tags-as-text');
  // Nothing was injected: no <img src=x>, no script ran, no alert.
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(await page.locator('script:not([src])').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __sfaPwned?: number }).__sfaPwned)).toBeUndefined();
  expect(dialogs).toEqual([]);
  // The detail view shows the same text literally too.
  await row.click();
  await expect(page.getByText(HTML_TITLE).first()).toBeVisible();
  expect(await page.locator('img[src="x"]').count()).toBe(0);
  expect(dialogs).toEqual([]);
});
