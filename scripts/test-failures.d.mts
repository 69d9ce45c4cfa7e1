/** Types of scripts/test-failures.mjs (the failed tests in `npm test`'s summary). */
export interface TestFailure {
  name: string;
  message: string;
}
export function vitestFailures(path: string): TestFailure[];
export function junitFailures(path: string): TestFailure[];
export function playwrightFailures(path: string): TestFailure[];
