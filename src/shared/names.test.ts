import { describe, expect, it } from 'vitest';
import { EVENT_NAMES, requests } from './contract';
import { PUSH_EVENT_NAMES, REQUEST_NAMES, isKnownEventName, isKnownRequestName } from './names';

describe('shared/names', () => {
  it('lists exactly the contract’s requests and events', () => {
    expect([...REQUEST_NAMES].sort()).toEqual(Object.keys(requests).sort());
    expect([...PUSH_EVENT_NAMES].sort()).toEqual([...EVENT_NAMES].sort());
  });

  it('recognises known names only', () => {
    expect(isKnownRequestName('library.add')).toBe(true);
    expect(isKnownRequestName('toString')).toBe(false);
    expect(isKnownRequestName('__proto__')).toBe(false);
    expect(isKnownRequestName(42)).toBe(false);
    expect(isKnownEventName('library:changed')).toBe(true);
    expect(isKnownEventName('library.add')).toBe(false);
  });
});
