import { useCallback, useMemo, useRef, useState } from 'react';
import { createApi, type AuthResult, type FetchLike } from './api';
import { clearSession, loadSession, saveSession, type Session } from './session';
import { AuthScreen } from './components/AuthScreen';
import { Workspace } from './components/Workspace';

export interface AppProps {
  /** Injected in tests; the browser's fetch otherwise. */
  fetch?: FetchLike;
}

export function App({ fetch }: AppProps) {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [notice, setNotice] = useState<string | null>(null);
  const sessionRef = useRef(session);
  sessionRef.current = session;

  const expire = useCallback(() => {
    if (!sessionRef.current) return;
    sessionRef.current = null;
    clearSession();
    setSession(null);
    setNotice('Your session has expired. Please log in again.');
  }, []);

  const api = useMemo(
    () =>
      createApi({
        fetch,
        getToken: () => sessionRef.current?.token ?? null,
        onSessionExpired: expire,
      }),
    [fetch, expire],
  );

  const onAuthenticated = useCallback((r: AuthResult) => {
    const s = { token: r.token, user: r.user };
    saveSession(s);
    sessionRef.current = s;
    setNotice(null);
    setSession(s);
  }, []);

  const logout = useCallback(() => {
    // Revoke the token on the server (the request takes the token before it is cleared here).
    void api.logout().catch(() => undefined);
    sessionRef.current = null;
    clearSession();
    setNotice('You have logged out.');
    setSession(null);
  }, [api]);

  if (!session) return <AuthScreen api={api} notice={notice} onAuthenticated={onAuthenticated} />;
  // Keyed by token: a new login starts with fresh state.
  return <Workspace key={session.token} api={api} user={session.user} onLogout={logout} />;
}
