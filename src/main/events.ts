import type { EventName, Events } from '../shared/contract';

export type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

/** The engine's push events (the contract's `Events`), fanned out to every connected client. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch {
        // one broken client (a closed socket) must not stop the others
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
