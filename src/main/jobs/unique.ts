import { createHash } from 'node:crypto';
import { SfaError } from '../../shared/errors';
import { isJobState, type JobState } from './states';
import { DEFAULTS, type Json, type JsonObject, type UniqueField, type UniqueOptions } from './types';

export interface ResolvedUnique {
  key: string;
  /** inserted_at lower bound in ms, or null for 'infinity'. */
  since: number | null;
  states: JobState[];
}

/** JSON with object keys sorted, so {a,b} and {b,a} produce the same unique key. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function pick(obj: JsonObject, keys: readonly string[] | undefined): JsonObject {
  if (!keys) return obj;
  const out: JsonObject = {};
  for (const k of keys) out[k] = (obj[k] ?? null) as Json;
  return out;
}

/**
 * Oban-style unique key: a hash of the chosen fields (args/meta restricted to `keys`). The
 * period and states are not part of the key: they select which existing rows conflict.
 */
export function resolveUnique(
  options: UniqueOptions,
  job: { worker: string; queue: string; args: JsonObject; meta: JsonObject },
  now: number,
): ResolvedUnique {
  const fields: readonly UniqueField[] = options.fields ?? DEFAULTS.unique.fields;
  const states = options.states ?? DEFAULTS.unique.states;
  const period = options.period ?? DEFAULTS.unique.period;
  if (fields.length === 0) throw new SfaError('BAD_REQUEST', 'unique.fields must name at least one field');
  if (!states.every(isJobState)) throw new SfaError('BAD_REQUEST', `unique.states has an unknown state: ${String(states)}`);
  if (period !== 'infinity' && !(typeof period === 'number' && period > 0)) {
    throw new SfaError('BAD_REQUEST', 'unique.period must be a positive number of seconds or "infinity"');
  }
  const material: Record<string, Json> = {};
  for (const f of [...fields].sort()) {
    if (f === 'worker') material.worker = job.worker;
    else if (f === 'queue') material.queue = job.queue;
    else if (f === 'args') material.args = pick(job.args, options.keys);
    else if (f === 'meta') material.meta = pick(job.meta, options.keys);
    else throw new SfaError('BAD_REQUEST', `unique.fields has an unknown field: ${String(f)}`);
  }
  const key = createHash('sha256').update(canonicalJson(material)).digest('hex').slice(0, 32);
  return { key, since: period === 'infinity' ? null : now - period * 1000, states: [...states] };
}
