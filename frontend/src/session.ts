// The JWT lives in sessionStorage: it survives a reload of the tab, not the closing of it.
import type { User } from './api';

export interface Session {
  token: string;
  user: User;
}

const KEY = 'todo-chatbot.session';

function storage(): Storage | null {
  try {
    return globalThis.sessionStorage ?? null;
  } catch {
    return null; // storage can be disabled by the browser
  }
}

/** Seconds-since-epoch expiry of a JWT, or null when it carries none or cannot be read. */
export function tokenExpiry(token: string): number | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp : null;
  } catch {
    return null;
  }
}

export function isExpired(token: string, nowMs = Date.now()): boolean {
  const exp = tokenExpiry(token);
  return exp !== null && exp * 1000 <= nowMs;
}

export function loadSession(): Session | null {
  const raw = storage()?.getItem(KEY);
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as Partial<Session>;
    if (typeof s.token !== 'string' || !s.user || typeof s.user.email !== 'string') return null;
    if (isExpired(s.token)) {
      clearSession();
      return null;
    }
    return { token: s.token, user: s.user };
  } catch {
    return null;
  }
}

export function saveSession(s: Session): void {
  storage()?.setItem(KEY, JSON.stringify(s));
}

export function clearSession(): void {
  storage()?.removeItem(KEY);
}
