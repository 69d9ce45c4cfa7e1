/**
 * The failed tests of a step, read from its runner's machine-readable report, for `npm test`'s
 * summary: CI shows only the end of the output, where a failure scrolled out of sight otherwise.
 * Each reader returns `[{ name, message }]` (empty where the report is missing or unreadable).
 */
import { readFileSync } from 'node:fs';

const firstLine = (text) =>
  String(text ?? '')
    // eslint-disable-next-line no-control-regex -- colours in the runners' messages
    .replace(/\u001b\[[0-9;]*m/g, '')
    .split('\n')
    .map((line) => line.trim())
    .find((line) => line.length > 0)
    ?.slice(0, 240) ?? '';

const readJson = (path) => {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return null;
  }
};

/** vitest's `json` reporter: failed tests, and files that failed before any test ran. */
export function vitestFailures(path) {
  const report = readJson(path);
  const failures = [];
  for (const file of report?.testResults ?? []) {
    const failed = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const test of failed) failures.push({ name: `${file.name} › ${test.fullName}`, message: firstLine(test.failureMessages?.[0]) });
    if (failed.length === 0 && file.status === 'failed') failures.push({ name: file.name, message: firstLine(file.message) });
  }
  return failures;
}

const unescapeXml = (text) =>
  text.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/** pytest's `--junitxml` report: test cases with a failure or an error. */
export function junitFailures(path) {
  let xml;
  try {
    xml = readFileSync(path, 'utf8');
  } catch {
    return [];
  }
  const failures = [];
  for (const [, attrs, body] of xml.matchAll(/<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g)) {
    const problem = body?.match(/<(failure|error)\b[^>]*?message="([^"]*)"/);
    if (!problem) continue;
    const attr = (key) => unescapeXml(attrs.match(new RegExp(`\\b${key}="([^"]*)"`))?.[1] ?? '');
    failures.push({ name: `${attr('classname')}::${attr('name')}`, message: firstLine(unescapeXml(problem[2])) });
  }
  return failures;
}

/** Playwright's `json` reporter: specs that did not pass (after their retries). */
export function playwrightFailures(path) {
  const failures = [];
  const walk = (suite) => {
    for (const spec of suite.specs ?? []) {
      if (spec.ok !== false) continue;
      const error = spec.tests?.flatMap((t) => t.results ?? []).find((r) => r.error)?.error;
      failures.push({ name: `${spec.file}:${spec.line} › ${spec.title}`, message: firstLine(error?.message) });
    }
    for (const child of suite.suites ?? []) walk(child);
  };
  const report = readJson(path);
  for (const suite of report?.suites ?? []) walk(suite);
  // a spec that fails to load, a config error: no spec reached the report
  for (const error of report?.errors ?? []) failures.push({ name: 'e2e (before any test)', message: firstLine(error.message) });
  return failures;
}
