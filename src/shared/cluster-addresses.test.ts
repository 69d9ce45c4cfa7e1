import { describe, expect, it } from 'vitest';
import golden from './cluster-addresses.json';
import { CLUSTER_ADDRESS, isClusterAddress } from './patterns';

// The examples the Python driver's validator is tested against too (python/tests): one list.
describe('CLUSTER_ADDRESS', () => {
  it.each(golden.accepted)('accepts %j', (address) => {
    expect(isClusterAddress(address)).toBe(true);
  });

  it.each(golden.refused)('refuses %j', (address) => {
    expect(isClusterAddress(address)).toBe(false);
  });

  it('publishes its own source in the golden file (the Python copy compiles it)', () => {
    expect(golden.pattern).toBe(CLUSTER_ADDRESS.source);
  });

  it('refuses a DNS name longer than 253 characters and accepts one of 253', () => {
    const name = (length: number) => Array.from({ length: Math.ceil(length / 50) }, () => 'a'.repeat(49)).join('.').slice(0, length);
    expect(name(253)).toHaveLength(253);
    expect(isClusterAddress(`ray://${name(253)}:10001`)).toBe(true);
    expect(isClusterAddress(`ray://${name(254)}x:10001`)).toBe(false);
  });

  it('refuses what is not a string', () => {
    for (const value of [null, undefined, 10001, { address: 'ray://head:10001' }]) expect(isClusterAddress(value)).toBe(false);
  });
});
