import type { EventName, Events } from '../shared/contract';
import type { Logger } from './log';

export type EventListener = <E extends EventName>(event: E, payload: Events[E]) => void;

/** The engine's push events (the contract's `Events`), fanned out to every connected client. */
export class EventBus {
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly logger: Pick<Logger, 'error'> = { error: (message) => console.error(message) }) {}

  emit<E extends EventName>(event: E, payload: Events[E]): void {
    for (const listener of this.listeners) {
      try {
        listener(event, payload);
      } catch (error) {
        // One broken client (a closed socket) must not stop the others, but its failure is a bug
        // someone has to see.
        this.logger.error(`event ${event}: a listener failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
