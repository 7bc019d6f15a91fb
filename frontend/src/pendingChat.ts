// A chat message whose answer has not arrived yet, kept in sessionStorage so that a reload of
// the tab can find out what became of it (instead of forgetting it, or claiming "Not sent").
import type { ConversationId } from './api';

export interface PendingSend {
  text: string;
  /** The message's idempotency key: a retry after the reload reuses it. */
  key: string;
  conversationId: ConversationId | null;
  seenId: number | null;
  /** Conversations that existed before the send (a first message creates a new one). */
  known: string[];
  sentAt: number;
}

const KEY = 'todo-chatbot.pending-chat';

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null;
  }
}

export function savePending(p: PendingSend): void {
  storage()?.setItem(KEY, JSON.stringify(p));
}

export function loadPending(): PendingSend | null {
  const raw = storage()?.getItem(KEY);
  if (!raw) return null;
  try {
    const p = JSON.parse(raw) as Partial<PendingSend>;
    if (typeof p.text !== 'string' || typeof p.key !== 'string' || typeof p.sentAt !== 'number') return null;
    return {
      text: p.text,
      key: p.key,
      conversationId: p.conversationId ?? null,
      seenId: typeof p.seenId === 'number' ? p.seenId : null,
      known: Array.isArray(p.known) ? p.known.map(String) : [],
      sentAt: p.sentAt,
    };
  } catch {
    return null;
  }
}

export function clearPending(): void {
  storage()?.removeItem(KEY);
}
