import { fireEvent, render, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi } from '../api';
import { fakeBackend } from '../test/fakeBackend';
import { AuthScreen, authErrorToFields, validateAuth } from './AuthScreen';

function setup() {
  const fb = fakeBackend();
  const onAuthenticated = vi.fn();
  render(<AuthScreen api={createApi({ fetch: fb.fetch })} notice={null} onAuthenticated={onAuthenticated} />);
  const fill = (email: string, password: string) => {
    fireEvent.change(screen.getByLabelText('Email'), { target: { value: email } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  };
  return { fb, onAuthenticated, fill };
}

describe('validateAuth', () => {
  it('checks email shape and, on signup, password strength', () => {
    expect(validateAuth('login', '', '')).toEqual({ email: 'Enter your email address.', password: 'Enter your password.' });
    expect(validateAuth('login', 'nope', 'x').email).toMatch(/valid email/);
    expect(validateAuth('login', 'a@b.c', 'short')).toEqual({});
    expect(validateAuth('signup', 'a@b.c', 'short').password).toMatch(/too weak/);
    expect(validateAuth('signup', 'a@b.c', '12345678')).toEqual({});
    expect(validateAuth('signup', 'a@b.c', 'é'.repeat(37)).password).toMatch(/too long/);
  });

  it('maps server errors to fields', () => {
    expect(authErrorToFields('login', new ApiError('unauthorized', 401, 'x'))).toEqual({ form: 'Wrong email or password.' });
    expect(authErrorToFields('signup', new ApiError('conflict', 409, 'x')).email).toMatch(/already exists/);
    expect(authErrorToFields('signup', new ApiError('invalid', 400, 'password must be at least 8 characters')).password).toMatch(/too weak/);
    expect(authErrorToFields('signup', new ApiError('invalid', 400, 'password must be at most 72 bytes')).password).toMatch(/too long/);
    expect(authErrorToFields('signup', new ApiError('invalid', 400, 'bad email')).email).toBeTruthy();
    expect(authErrorToFields('login', new ApiError('rate_limited', 429, 'x')).form).toMatch(/Too many/);
    expect(authErrorToFields('login', new ApiError('network', 0, 'x')).form).toMatch(/Cannot reach/);
  });
});

describe('AuthScreen', () => {
  it('shows a weak password inline without calling the server, and focuses the field', () => {
    const { fb, fill } = setup();
    fireEvent.click(screen.getByRole('button', { name: 'Create an account' }));
    fill('ann@example.com', 'short');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    const pw = screen.getByLabelText('Password');
    expect(screen.getByText(/Password is too weak/)).toBeTruthy();
    expect(pw.getAttribute('aria-invalid')).toBe('true');
    expect(document.activeElement).toBe(pw);
    expect(fb.calls).toHaveLength(0);
  });

  it('shows an email that is taken next to the email field', async () => {
    const { fb, fill, onAuthenticated } = setup();
    fb.users.set('ann@example.com', 'whatever1');
    fireEvent.click(screen.getByRole('button', { name: 'Create an account' }));
    fill('ann@example.com', 'long enough');
    fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
    expect(await screen.findByText(/already exists/)).toBeTruthy();
    expect(screen.getByLabelText('Email').getAttribute('aria-invalid')).toBe('true');
    expect(onAuthenticated).not.toHaveBeenCalled();
  });

  it('shows a wrong password as a form error and allows a new try', async () => {
    const { fb, fill, onAuthenticated } = setup();
    fb.users.set('ann@example.com', 'right password');
    fill('ann@example.com', 'wrong password');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    expect((await screen.findByRole('alert')).textContent).toBe('Wrong email or password.');
    fill('ann@example.com', 'right password');
    fireEvent.click(screen.getByRole('button', { name: 'Log in' }));
    await vi.waitFor(() => expect(onAuthenticated).toHaveBeenCalledTimes(1));
    expect(onAuthenticated.mock.calls[0][0].user.email).toBe('ann@example.com');
  });
});
