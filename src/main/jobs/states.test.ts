import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isJobState, TRANSITIONS } from './states';

const readme = readFileSync(join(dirname(fileURLToPath(import.meta.url)), 'README.md'), 'utf8');

/** The rows of README's "States and transitions" table, cells trimmed. */
function readmeTransitions(): { from: string; to: string; when: string }[] {
  const section = readme.split('## States and transitions')[1]?.split('\n## ')[0] ?? '';
  const rows = section.split('\n').filter((l) => l.startsWith('|'));
  expect(rows[0]?.split('|').map((c) => c.trim())).toEqual(['', 'from', 'to', 'when', '']);
  return rows.slice(2).map((row) => {
    const [from, to, when] = row
      .split('|')
      .slice(1, -1)
      .map((c) => c.trim());
    return { from: from!, to: to!, when: when! };
  });
}

describe('job states', () => {
  it("README's transition table is the one in states.ts", () => {
    expect(readmeTransitions()).toEqual(TRANSITIONS.map((t) => ({ ...t })));
  });

  it('every transition names real states', () => {
    for (const t of TRANSITIONS) {
      expect(isJobState(t.to), t.to).toBe(true);
      const from = t.from === '(new)' ? [] : t.from.split('/');
      expect(from.every(isJobState), t.from).toBe(true);
    }
  });
});
