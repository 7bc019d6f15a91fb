import { describe, expect, it } from 'vitest';
import { clearSession, isExpired, loadSession, saveSession, tokenExpiry } from './session';

const b64url = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
const jwt = (payload: unknown) => `${b64url({ alg: 'HS256' })}.${b64url(payload)}.sig`;

describe('session', () => {
  it('reads the expiry of a JWT', () => {
    expect(tokenExpiry(jwt({ exp: 123 }))).toBe(123);
    expect(tokenExpiry(jwt({}))).toBeNull();
    expect(tokenExpiry('garbage')).toBeNull();
    expect(isExpired(jwt({ exp: 10 }), 11_000)).toBe(true);
    expect(isExpired(jwt({ exp: 10 }), 9_000)).toBe(false);
  });

  it('round-trips through sessionStorage and forgets an expired token', () => {
    const user = { id: 1, email: 'a@b.c' };
    const future = jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    saveSession({ token: future, user });
    expect(loadSession()).toEqual({ token: future, user });
    saveSession({ token: jwt({ exp: 1 }), user });
    expect(loadSession()).toBeNull();
    expect(sessionStorage.length).toBe(0);
    sessionStorage.setItem('todo-chatbot.session', '{broken');
    expect(loadSession()).toBeNull();
    clearSession();
  });
});
