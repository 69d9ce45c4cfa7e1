import type { Logger } from './types';

/**
 * A tiny typed emitter. Listeners run synchronously after the transaction that caused the event
 * has committed (the scheduler buffers events inside transactions), so a listener never sees
 * uncommitted state and a throwing listener can neither roll back a job nor break dispatch.
 */
export class TypedEmitter<E extends object> {
  private readonly listeners = new Map<string, Set<(payload: never) => void>>();

  constructor(private readonly logger: Logger) {}

  /** Subscribe; returns the unsubscribe function. */
  on<K extends keyof E & string>(event: K, fn: (payload: E[K]) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn as (payload: never) => void);
    return () => {
      set.delete(fn as (payload: never) => void);
      if (set.size === 0) this.listeners.delete(event);
    };
  }

  /** Subscribe for one event only. */
  once<K extends keyof E & string>(event: K, fn: (payload: E[K]) => void): () => void {
    const off = this.on(event, (p) => {
      off();
      fn(p);
    });
    return off;
  }

  hasListeners(event: string): boolean {
    return this.listeners.has(event);
  }

  emit<K extends keyof E & string>(event: K, payload: E[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        (fn as (p: E[K]) => void)(payload);
      } catch (error) {
        this.logger.error(`listener of ${event} threw`, error);
      }
    }
  }
}
