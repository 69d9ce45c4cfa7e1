import { defineConfig } from '@playwright/test';
import { findBrowser } from './scripts/browser.mjs';

/**
 * End-to-end tests drive the real UI in Chromium against `sfa serve` (global-setup.ts
 * starts it on a temp home). electron.spec.ts drives the desktop app where its binary exists.
 * Needs `npm run build` first (the served UI and the CLI are the built ones). The browser is the
 * one `npm install` chose (scripts/browser.mjs: SFA_CHROMIUM, a system Chromium/Chrome, or
 * Playwright's own); with none, Playwright's default path (and `npm test` stops before this).
 */
const browser = findBrowser();
export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/playwright',
  globalSetup: './e2e/global-setup.ts',
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  reporter: [['list']],
  use: {
    launchOptions: {
      ...(browser ? { executablePath: browser.executablePath } : {}),
      args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
    viewport: { width: 1280, height: 800 },
    colorScheme: 'dark',
    trace: 'off',
  },
});
