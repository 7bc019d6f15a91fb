import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { isApiError, type Api, type AuthResult } from '../api';

type Mode = 'login' | 'signup';
type Field = 'email' | 'password' | 'form';
export type FieldErrors = Partial<Record<Field, string>>;

export const MIN_PASSWORD = 8;
/** bcrypt's limit, which the backend enforces. */
export const MAX_PASSWORD_BYTES = 72;
const WEAK = `Password is too weak: use at least ${MIN_PASSWORD} characters.`;
const TOO_LONG = `Password is too long: use at most ${MAX_PASSWORD_BYTES} bytes.`;

/** Checks done before a request is sent. */
export function validateAuth(mode: Mode, email: string, password: string): FieldErrors {
  const errors: FieldErrors = {};
  const e = email.trim();
  if (!e) errors.email = 'Enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+$/.test(e)) errors.email = 'Enter a valid email address, like name@example.com.';
  if (!password) errors.password = 'Enter your password.';
  else if (mode === 'signup' && password.length < MIN_PASSWORD) errors.password = WEAK;
  else if (mode === 'signup' && new TextEncoder().encode(password).length > MAX_PASSWORD_BYTES)
    errors.password = TOO_LONG;
  return errors;
}

/** Maps a failed signup/login to the field it concerns. */
export function authErrorToFields(mode: Mode, err: unknown): FieldErrors {
  if (!isApiError(err)) return { form: 'Something went wrong. Please try again.' };
  switch (err.kind) {
    case 'unauthorized':
    case 'session_expired':
      return { form: 'Wrong email or password.' };
    case 'conflict':
      return { email: 'An account with this email already exists. Log in instead.' };
    case 'invalid': {
      const msg = err.message;
      if (/password/i.test(msg)) {
        if (/at most|long/i.test(msg)) return { password: TOO_LONG };
        return { password: mode === 'signup' && /at least|short|weak/i.test(msg) ? WEAK : msg };
      }
      if (/email/i.test(msg)) return { email: 'Enter a valid email address.' };
      return { form: msg };
    }
    case 'rate_limited':
      return { form: 'Too many attempts. Please wait a minute and try again.' };
    case 'network':
      return { form: 'Cannot reach the server. Check your connection and try again.' };
    default:
      return { form: err.message };
  }
}

interface Props {
  api: Api;
  notice: string | null;
  onAuthenticated: (r: AuthResult) => void;
}

export function AuthScreen({ api, notice, onAuthenticated }: Props) {
  const [mode, setMode] = useState<Mode>('login');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [busy, setBusy] = useState(false);
  const emailRef = useRef<HTMLInputElement>(null);
  const passwordRef = useRef<HTMLInputElement>(null);
  const formErrRef = useRef<HTMLParagraphElement>(null);
  const id = useId();

  useEffect(() => {
    emailRef.current?.focus();
  }, [mode]);

  useEffect(() => {
    if (errors.email) emailRef.current?.focus();
    else if (errors.password) passwordRef.current?.focus();
    else if (errors.form) formErrRef.current?.focus();
  }, [errors]);

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (busy) return;
    const local = validateAuth(mode, email, password);
    if (Object.keys(local).length) {
      setErrors(local);
      return;
    }
    setErrors({});
    setBusy(true);
    try {
      const r = mode === 'signup' ? await api.signup(email.trim(), password) : await api.login(email.trim(), password);
      onAuthenticated(r);
    } catch (err) {
      setErrors(authErrorToFields(mode, err));
      setBusy(false);
    }
  }

  function switchMode() {
    setMode((m) => (m === 'login' ? 'signup' : 'login'));
    setErrors({});
  }

  const title = mode === 'login' ? 'Log in' : 'Create your account';
  const emailErrId = `${id}-email-err`;
  const pwErrId = `${id}-pw-err`;
  const pwHintId = `${id}-pw-hint`;

  return (
    <main className="auth">
      <div className="auth__card">
        <p className="brand" aria-hidden="true">
          <span className="brand__mark">✓</span> Todo Chatbot
        </p>
        <h1 className="auth__title">{title}</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <form onSubmit={submit} noValidate aria-label={title}>
          <div className="field">
            <label htmlFor={`${id}-email`}>Email</label>
            <input
              ref={emailRef}
              id={`${id}-email`}
              name="email"
              type="email"
              autoComplete={mode === 'login' ? 'username' : 'email'}
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              aria-invalid={errors.email ? true : undefined}
              aria-describedby={errors.email ? emailErrId : undefined}
              required
            />
            {errors.email && (
              <p id={emailErrId} className="field__error">
                {errors.email}
              </p>
            )}
          </div>
          <div className="field">
            <label htmlFor={`${id}-password`}>Password</label>
            <input
              ref={passwordRef}
              id={`${id}-password`}
              name="password"
              type="password"
              autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              aria-invalid={errors.password ? true : undefined}
              aria-describedby={
                [errors.password ? pwErrId : '', mode === 'signup' ? pwHintId : ''].filter(Boolean).join(' ') ||
                undefined
              }
              required
            />
            {mode === 'signup' && (
              <p id={pwHintId} className="field__hint">
                At least {MIN_PASSWORD} characters.
              </p>
            )}
            {errors.password && (
              <p id={pwErrId} className="field__error">
                {errors.password}
              </p>
            )}
          </div>
          {errors.form && (
            <p ref={formErrRef} className="form-error" role="alert" tabIndex={-1}>
              {errors.form}
            </p>
          )}
          <button className="btn btn--primary btn--block" type="submit" disabled={busy}>
            {busy ? (mode === 'login' ? 'Logging in…' : 'Creating account…') : mode === 'login' ? 'Log in' : 'Sign up'}
          </button>
        </form>
        <p className="auth__switch">
          {mode === 'login' ? 'New here?' : 'Already have an account?'}{' '}
          <button type="button" className="link" onClick={switchMode}>
            {mode === 'login' ? 'Create an account' : 'Log in'}
          </button>
        </p>
      </div>
    </main>
  );
}
