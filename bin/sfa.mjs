#!/usr/bin/env node
// The `sfa` command: runs the built CLI. `npm install` builds it; `npm run build` rebuilds it.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'out', 'main', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write('sfa: the CLI is not built yet. Run `npm install` (or `npm run build`) in the app folder.\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
process.exitCode = await main(process.argv.slice(2));
