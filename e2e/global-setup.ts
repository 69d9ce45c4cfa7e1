import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ownServer } from './support';

/**
 * Starts `sfa serve` on a fresh temp home and hands `{url, token}` to the tests through
 * SFA_E2E_URL / SFA_E2E_TOKEN (workers inherit this process's environment). The returned
 * function is the teardown: it stops the server and removes the home.
 */
export default async function globalSetup(): Promise<() => Promise<void>> {
  for (const built of ['out/main/cli.js', 'out/renderer/index.html']) {
    if (!existsSync(join(process.cwd(), built))) throw new Error(`${built} is missing: run \`npm run build\` before the e2e tests.`);
  }
  const server = await ownServer({}, 'sfa-e2e-');
  process.env.SFA_E2E_URL = server.url;
  process.env.SFA_E2E_TOKEN = server.token;
  process.env.SFA_E2E_HOME = server.home;
  return () => server.stop();
}
