import { describe, expect, it } from 'vitest';
import { EventBus } from './events';

describe('EventBus', () => {
  it('logs a failing listener and still delivers to the others', () => {
    const logged: string[] = [];
    const bus = new EventBus({ error: (message) => logged.push(message) });
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('socket closed');
    });
    bus.subscribe((event) => seen.push(event));
    bus.emit('library:changed', {} as never);
    expect(seen).toEqual(['library:changed']);
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(/library:changed.*socket closed/);
  });

  it('stops delivering to a listener that unsubscribed', () => {
    const bus = new EventBus({ error: () => undefined });
    const seen: string[] = [];
    const off = bus.subscribe((event) => seen.push(event));
    off();
    bus.emit('library:changed', {} as never);
    expect(seen).toEqual([]);
  });
});
