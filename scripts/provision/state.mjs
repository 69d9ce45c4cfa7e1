/**
 * The provisioning state file (`<env>/.sfa-provision.json`) and what each completed step rests on.
 *
 * A step recorded done is only trusted while what it was done on still stands: the venv rests on
 * the interpreter it was created from (its `pyvenv.cfg` names that interpreter's folder, and on
 * Linux/macOS `bin/python` is a link to it), the packages on the venv, the verification on the
 * packages. When a step is redone, every step resting on it is forgotten, so a rebuilt (emptied)
 * venv can never keep a "packages: done" or "verify: done" from before.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_FILE = '.sfa-provision.json';

/** step -> the steps it rests on. */
export const STEP_DEPENDS = { python: [], venv: ['python'], packages: ['venv'], models: [], verify: ['packages', 'models'] };

export function readState(envDir) {
  try {
    return JSON.parse(readFileSync(join(envDir, STATE_FILE), 'utf8'));
  } catch {
    return null;
  }
}

export function writeState(envDir, state) {
  mkdirSync(envDir, { recursive: true });
  const file = join(envDir, STATE_FILE);
  writeFileSync(`${file}.tmp`, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

/** Every step that rests (directly or not) on `step`. */
export function dependentsOf(step) {
  const out = new Set();
  const visit = (s) => {
    for (const [other, deps] of Object.entries(STEP_DEPENDS)) {
      if (deps.includes(s) && !out.has(other)) {
        out.add(other);
        visit(other);
      }
    }
  };
  visit(step);
  return [...out];
}

/** Forgets `step` and everything resting on it; returns the steps that were done and are not any more. */
export function invalidate(state, step) {
  const dropped = [];
  for (const s of [step, ...dependentsOf(step)]) {
    if (state.steps[s]) {
      delete state.steps[s];
      dropped.push(s);
    }
  }
  return dropped;
}

/** `pyvenv.cfg` as key -> value (null when there is none). */
export function readPyvenvCfg(envDir) {
  const file = join(envDir, 'pyvenv.cfg');
  if (!existsSync(file)) return null;
  const out = {};
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    const match = /^\s*([\w-]+)\s*=\s*(.*?)\s*$/.exec(line);
    if (match) out[match[1]] = match[2];
  }
  return out;
}
