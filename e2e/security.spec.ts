import { expect, test } from '@playwright/test';
import { server } from './support';

test('HTTP without the token is refused with 401', async ({ request }) => {
  const { url } = server();
  const res = await request.get(`${url}/`);
  expect(res.status()).toBe(401);
  expect(await res.text()).toContain('Unauthorized');
  expect((await request.get(`${url}/?token=wrong`, { maxRedirects: 0 })).status()).toBe(401);
  expect((await request.post(`${url}/api/upload?name=x.wav`, { data: Buffer.from('x') })).status()).toBe(401);
});

test('a page without the cookie cannot open the WebSocket', async ({ page }) => {
  const { url } = server();
  const res = await page.goto(`${url}/`);
  expect(res?.status()).toBe(401);
  // Same origin, no cookie: the upgrade is refused (the browser reports a close, not the status).
  const outcome = await page.evaluate(
    (wsUrl) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(wsUrl);
        ws.onopen = () => resolve('open');
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      }),
    url.replace('http:', 'ws:') + '/ws',
  );
  expect(outcome).toBe('closed 1006');
});

test('the WebSocket upgrade without the token gets 401, from another origin 403', async () => {
  const { url, token } = server();
  const u = new URL(url);
  const upgrade = (path: string, origin?: string) =>
    new Promise<number>((resolve, reject) => {
      void import('node:http').then(({ request }) => {
        const req = request({
          host: u.hostname,
          port: u.port,
          path,
          headers: {
            Connection: 'Upgrade',
            Upgrade: 'websocket',
            'Sec-WebSocket-Version': '13',
            'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
            ...(origin ? { Origin: origin } : {}),
          },
        });
        req.on('response', (res) => resolve(res.statusCode ?? 0));
        req.on('upgrade', (res, socket) => {
          socket.destroy();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
    });
  expect(await upgrade('/ws')).toBe(401);
  expect(await upgrade(`/ws?token=${token}`, 'http://evil.example')).toBe(403);
  expect(await upgrade(`/ws?token=${token}`, url)).toBe(101);
});

test('the served page carries the CSP and refuses traversal', async ({ request }) => {
  const { url, token } = server();
  const headers = { Authorization: `Bearer ${token}` };
  const page = await request.get(`${url}/`, { headers });
  expect(page.status()).toBe(200);
  expect(page.headers()['content-security-policy']).toContain("default-src 'self'");
  expect(page.headers()['x-content-type-options']).toBe('nosniff');
  expect((await request.get(`${url}/%2e%2e/package.json`, { headers })).status()).toBe(404);
});

test('a page load requests nothing that is missing: the icon is declared and served', async ({ page }) => {
  const { url, token } = server();
  const failed: string[] = [];
  page.on('response', (res) => {
    if (res.status() >= 400) failed.push(`${res.status()} ${new URL(res.url()).pathname}`);
  });
  const consoleErrors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(`${url}/?token=${token}`);
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  // Chromium asks for /favicon.ico only when no icon is declared; give it the chance to.
  await page.waitForTimeout(500);
  expect(failed).toEqual([]);
  const icon = await page.locator('link[rel="icon"]').first().getAttribute('href', { timeout: 1000 });
  expect(icon).toBeTruthy();
  const res = await page.request.get(new URL(icon!, page.url()).href);
  expect(res.status()).toBe(200);
  expect(res.headers()['content-type']).toBe('image/svg+xml');
  expect(consoleErrors).toEqual([]);
});
