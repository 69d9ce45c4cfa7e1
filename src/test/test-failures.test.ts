/**
 * `npm test`'s list of failed tests (scripts/test-failures.mjs), read from reports the real
 * runners write for a failing and a passing test: vitest's json reporter, pytest's JUnit XML and
 * Playwright's json reporter (no browser: the spec uses no page).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { junitFailures, playwrightFailures, vitestFailures } from '../../scripts/test-failures.mjs';
import { repoRoot as root } from './fixtures';

const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const python = process.env.SFA_PYTHON ?? join(root, 'python', '.venv', 'bin', 'python');
const work = mkdtempSync(join(tmpdir(), 'sfa-failures-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd: work, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  expect(r.status, `${cmd} ${args.join(' ')}\n${r.stdout}\n${r.stderr}`).toBe(1); // one test failed
}

describe('the failed tests named in the summary', () => {
  it('vitest: the failing test and the first line of its assertion, not the passing one', () => {
    writeFileSync(join(work, 'sample.test.mjs'),
      "import { it, expect } from 'vitest';\nit('adds', () => expect(1 + 1).toBe(3));\nit('passes', () => {});\n");
    writeFileSync(join(work, 'vitest.config.mjs'), 'export default { test: { include: ["sample.test.mjs"] } };\n');
    const out = join(work, 'unit.json');
    run(bin('vitest'), ['run', '--root', work, '--reporter=json', `--outputFile.json=${out}`]);
    const failures = vitestFailures(out);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.name).toMatch(/sample\.test\.mjs › adds$/);
    expect(failures[0]!.message).toContain('expected 2 to be 3');
  });

  it('pytest: the failing case as module::name with its message', () => {
    writeFileSync(join(work, 'test_sample.py'),
      'def test_adds():\n    assert 1 + 1 == 3, "two is not three"\n\ndef test_passes():\n    pass\n');
    const out = join(work, 'py.xml');
    run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'test_sample.py', `--junitxml=${out}`]);
    const failures = junitFailures(out);
    expect(failures).toEqual([{ name: 'test_sample::test_adds', message: expect.stringContaining('two is not three') }]);
  });

  it('playwright: the failing spec with its file, line and error', () => {
    writeFileSync(join(work, 'sample.spec.mjs'),
      // by path: the spec lies outside the project, where '@playwright/test' does not resolve
      `import { test, expect } from '${pathToFileURL(join(root, 'node_modules', '@playwright', 'test', 'index.mjs')).href}';\n` +
      "test('adds', () => expect(1 + 1).toBe(3));\ntest('passes', () => {});\n");
    writeFileSync(join(work, 'playwright.config.mjs'), "export default { testDir: '.', testMatch: 'sample.spec.mjs' };\n");
    const out = join(work, 'e2e.json');
    run(bin('playwright'), ['test', '--config', join(work, 'playwright.config.mjs'), '--reporter=json'],
      { PLAYWRIGHT_JSON_OUTPUT_NAME: out });
    const failures = playwrightFailures(out);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.name).toBe('sample.spec.mjs:2 › adds');
    expect(failures[0]!.message).toContain('toBe');
  });

  it('playwright: an error before any test ran (a spec that does not load) is listed too', () => {
    writeFileSync(join(work, 'broken.spec.mjs'), "import { nothing } from './missing.mjs';\n");
    writeFileSync(join(work, 'broken.config.mjs'), "export default { testDir: '.', testMatch: 'broken.spec.mjs' };\n");
    const out = join(work, 'broken.json');
    run(bin('playwright'), ['test', '--config', join(work, 'broken.config.mjs'), '--reporter=json'],
      { PLAYWRIGHT_JSON_OUTPUT_NAME: out });
    expect(playwrightFailures(out)[0]).toEqual({ name: 'e2e (before any test)', message: expect.stringContaining('missing.mjs') });
  });

  it('a missing report lists nothing (the step still fails on its exit status)', () => {
    expect(vitestFailures(join(work, 'none.json'))).toEqual([]);
    expect(junitFailures(join(work, 'none.xml'))).toEqual([]);
    expect(playwrightFailures(join(work, 'none.json'))).toEqual([]);
  });
});
