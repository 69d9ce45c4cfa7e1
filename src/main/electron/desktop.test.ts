import { describe, expect, it } from 'vitest';
import { registeredFile } from './desktop';

const lookup = (id: string, which: string) => (id === 't1' && (which === 'source' || which === 'drums') ? { path: `/lib/${which}.wav`, filename: 'x', contentType: 'audio/wav' } : null);

describe('desktop drag / reveal resolution', () => {
  it('resolves only registered files', () => {
    expect(registeredFile(lookup, 't1', 'drums')).toBe('/lib/drums.wav');
    expect(registeredFile(lookup, 't1', undefined)).toBe('/lib/source.wav');
    expect(registeredFile(lookup, 't1', 'bass')).toBeNull();
    expect(registeredFile(lookup, '../etc', 'drums')).toBeNull();
    expect(registeredFile(lookup, 't1', '/etc/passwd')).toBeNull();
    expect(registeredFile(lookup, 42, 'drums')).toBeNull();
  });
});
