/**
 * Every request the contract names, fuzzed through `engine.api.handle` (what IPC and the
 * WebSocket call) with seeded random payloads: wrong types, huge strings, deep nesting,
 * `__proto__` keys, NaN, arrays, and valid payloads with one field broken. The engine must
 * answer each with a Reply: ok, or a typed error (never INTERNAL), never a throw, and never
 * pollute Object.prototype.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_NAMES } from '../../shared/names';
import { tempDir } from '../../test/fixtures';
import { createEngine, type Engine } from '../engine';
import { silentLogger } from '../log';
import { seeded } from '../faults/test/helpers';

const SEED = Number(process.env.SFA_FUZZ_SEED ?? 20_251_108);
const PER_REQUEST = Number(process.env.SFA_FUZZ_RUNS ?? 60);

/** A valid payload per request (the fuzzer breaks one field at a time). */
const VALID: Record<string, unknown> = {
  'library.add': { inputs: ['/nonexistent/song.wav'], steps: ['analyze'] },
  'library.list': { offset: 0, limit: 10, sort: { column: 'bpm', dir: 'asc' }, search: 'night dr', bpmMin: 100, bpmMax: 130, keys: ['8A'] },
  'library.count': { search: 'night dr', bpmMin: 100, keys: ['8A'] },
  'library.ids': { offset: 0, limit: 10, sort: { column: 'status', dir: 'desc' }, search: 'ni', keys: null },
  'library.titles': { ids: ['nope'] },
  'library.get': { id: 'nope' },
  'library.remove': { ids: ['nope'] },
  'jobs.list': { limit: 5 },
  'jobs.get': { id: 999_999 },
  'jobs.cancel': { id: 999_999 },
  'jobs.retry': { id: 999_999 },
  'queues.list': {},
  'queues.pause': { queue: 'analysis' },
  'queues.resume': { queue: 'analysis' },
  'queues.scale': { queue: 'analysis', limit: 2 },
  'system.info': {},
  'models.list': {},
  'models.remove': { name: 'not-installed' },
  'models.import': { path: '/nonexistent/model.th' },
  'pipeline.run': { ids: ['nope'], steps: ['analyze'] },
  'export.analysis': { format: 'json' },
  'export.stems': { trackId: 'nope', stems: ['vocals'], dir: '/nonexistent/out' },
  'media.peaks': { trackId: 'nope', points: 100 },
  'settings.get': {},
  'tags.read': { id: 'nope' },
  'tags.write': { ids: ['nope'], keyNotation: 'camelot' },
  'tags.restore': { ids: ['nope'] },
  'export.rekordbox': { ids: ['nope'] },
  'export.traktor': { ids: ['nope'], out: '/nonexistent/out.nml' },
  'export.m3u': {},
  'export.stemFiles': { ids: ['nope'], format: 'stem.mp4' },
};

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const strings = [
    '',
    ' ',
    'a',
    'x'.repeat(5000),
    'y'.repeat(1 << 20),
    '../../../../etc/passwd',
    '-rf',
    '--help',
    '$(touch /tmp/sfa-pwned)',
    '`id`',
    '<img src=x onerror=alert(1)>',
    '__proto__',
    'constructor',
    'null',
    '\u0000',
    '\ud800',
    '🎵'.repeat(100),
    'file:///etc/passwd',
    'javascript:alert(1)',
    'analysis',
    'vocals',
    'dsp',
  ];
  const numbers = [0, -1, 1, 1.5, 2 ** 31, 2 ** 53 + 2, -(2 ** 53), Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e308, -0];
  const keys = ['id', 'ids', 'inputs', 'steps', 'model', 'queue', 'limit', 'name', 'path', 'state', 'trackId', 'stem', 'stems', 'points', 'format', 'dir', 'out', 'codec', 'keyNotation', 'concurrency', 'toolPaths', '__proto__', 'constructor', 'prototype'];
  const value = (depth: number): unknown => {
    const r = random();
    if (depth > 3 || r < 0.3) return pick(strings);
    if (r < 0.5) return pick(numbers);
    if (r < 0.55) return pick([true, false, null, undefined]);
    if (r < 0.7) return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
    if (r < 0.75) return Array.from({ length: 20_001 }, () => 'id');
    if (r < 0.8) return nested(200 + Math.floor(random() * 2000));
    return object(depth + 1);
  };
  const nested = (depth: number): unknown => {
    let v: unknown = {};
    for (let i = 0; i < depth; i++) v = random() < 0.5 ? { a: v } : [v];
    return v;
  };
  const object = (depth: number): Record<string, unknown> => {
    const o: Record<string, unknown> = {};
    for (let i = Math.floor(random() * 4); i > 0; i--) o[pick(keys)] = value(depth);
    return o;
  };
  return (name: string): unknown => {
    const r = random();
    if (r < 0.15) return value(0);
    if (r < 0.25) return JSON.parse(`{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}`);
    if (r < 0.45) return object(0);
    // A valid payload with one field replaced, removed, or an unknown one added.
    const base = { ...((VALID[name] as Record<string, unknown>) ?? {}) };
    const fields = Object.keys(base);
    const mode = random();
    if (mode < 0.5 && fields.length) base[pick(fields)] = value(1);
    else if (mode < 0.7 && fields.length) delete base[pick(fields)];
    else base[pick(keys)] = value(1);
    return base;
  };
}

let engine: Engine;
let cleanup: () => void;
let savedPython: string | undefined;

beforeAll(async () => {
  // No Python (every probe fails fast with SIDECAR_UNAVAILABLE) and no network (model downloads fail).
  savedPython = process.env.SFA_PYTHON;
  process.env.SFA_PYTHON = '/nonexistent/python';
  const t = tempDir('sfa-fuzz-');
  cleanup = t.cleanup;
  engine = await createEngine({
    home: join(t.dir, 'home'),
    host: 'serve',
    logger: silentLogger,
    runQueues: true,
    models: { fetch: (async () => {
      throw new Error('offline');
    }) as unknown as typeof fetch },
  });
});

afterAll(async () => {
  await engine?.close();
  cleanup?.();
  if (savedPython === undefined) delete process.env.SFA_PYTHON;
  else process.env.SFA_PYTHON = savedPython;
});

describe('IPC / WebSocket request fuzzing through engine.api.handle', () => {
  it('answers every request name, valid or not, with ok or a typed error; never INTERNAL, never a throw', async () => {
    const random = seeded(SEED);
    const payload = generator(random);
    const codes = new Map<string, number>();
    const internal: string[] = [];
    const names = [...REQUEST_NAMES, 'no.such.request', '__proto__', 'constructor', 'toString'];
    for (const name of names) {
      for (let i = 0; i < PER_REQUEST; i++) {
        const params = payload(name);
        const reply = await engine.api.handle(name, params);
        expect(typeof reply.ok).toBe('boolean');
        if (!reply.ok) {
          expect(reply.error.code).toMatch(/^[A-Z_]+$/);
          expect(typeof reply.error.message).toBe('string');
          if (reply.error.message.length >= 5000) internal.push(`LONG ${name} ${reply.error.code}: ${reply.error.message.slice(0, 300)}`);
          codes.set(reply.error.code, (codes.get(reply.error.code) ?? 0) + 1);
          if (reply.error.code === 'INTERNAL') internal.push(`${name} ${JSON.stringify(params)?.slice(0, 200)}: ${reply.error.message}`);
        }
      }
    }
    // A request name that is not a string, or no payload at all.
    for (const name of [undefined, null, 42, {}, ['library.list'], Symbol.iterator]) {
      const reply = await engine.api.handle(name, {});
      expect(reply).toMatchObject({ ok: false, error: { code: 'UNKNOWN_REQUEST' } });
    }
    expect(internal).toEqual([]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
    console.info(`fuzz: seed ${SEED}, ${names.length} names x ${PER_REQUEST} payloads; errors by code ${JSON.stringify(Object.fromEntries(codes))}`);
  }, 120_000);
});
