import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from './log';

describe('createLogger rotation', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates engine.log past maxBytes and keeps `keep` older files', () => {
    dir = mkdtempSync(join(tmpdir(), 'sfa-log-'));
    const file = join(dir, 'engine.log');
    const logger = createLogger({ file, consoleLevel: 'silent', maxBytes: 1000, keep: 3 });
    for (let i = 0; i < 100; i++) logger.info(`line ${i} ${'x'.repeat(50)}`);
    expect(existsSync(`${file}.1`)).toBe(true);
    expect(existsSync(`${file}.3`)).toBe(true);
    expect(existsSync(`${file}.4`)).toBe(false);
    for (const f of [file, `${file}.1`, `${file}.2`, `${file}.3`]) expect(readFileSync(f).length).toBeLessThanOrEqual(1000);
    expect(readFileSync(file, 'utf8')).toContain('line 99 ');
    const newest = readFileSync(`${file}.1`, 'utf8').trim().split('\n');
    const current = readFileSync(file, 'utf8').trim().split('\n');
    expect(Number(/line (\d+)/.exec(newest.at(-1)!)![1]) + 1).toBe(Number(/line (\d+)/.exec(current[0]!)![1]));
  });
});
