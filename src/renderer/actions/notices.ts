import { useNoticesStore, type Notice } from '../stores';

let nextId = 1;
const AUTO_DISMISS_MS = { success: 5000, info: 5000, error: 0 } as const;

/** Shows a notice; errors stay until dismissed (they carry text to read), others fade. */
export function notify(kind: Notice['kind'], title: string, details?: string[]): number {
  const id = nextId++;
  useNoticesStore.setState((s) => ({ notices: [...s.notices, { id, kind, title, ...(details?.length ? { details } : {}) }].slice(-6) }));
  const ttl = AUTO_DISMISS_MS[kind];
  if (ttl > 0) setTimeout(() => dismiss(id), ttl);
  return id;
}

export function dismiss(id: number): void {
  useNoticesStore.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
