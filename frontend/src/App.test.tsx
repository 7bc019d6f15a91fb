import { act, cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import { fakeBackend, type FakeBackend } from './test/fakeBackend';

async function signUp(fb: FakeBackend, email = 'ann@example.com', password = 'correct horse') {
  render(<App fetch={fb.fetch} />);
  fireEvent.click(screen.getByRole('button', { name: 'Create an account' }));
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: email } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: password } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
  await screen.findByRole('button', { name: 'Log out' });
}

function tasksPane() {
  return screen.getByRole('region', { name: 'Tasks' });
}

async function say(text: string) {
  fireEvent.change(screen.getByLabelText('Message'), { target: { value: text } });
  // The composer takes a message only once the conversation has loaded (Send enabled).
  await waitFor(() => expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', false));
  fireEvent.click(screen.getByRole('button', { name: 'Send' }));
  await waitFor(() => expect(screen.getByRole('button', { name: /Send/ })).toHaveProperty('textContent', 'Send'));
}

describe('App', () => {
  it('signs up, keeps the JWT in sessionStorage and logs out', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    expect(sessionStorage.getItem('todo-chatbot.session')).toContain('ann@example.com');
    expect(await within(tasksPane()).findByText(/No tasks yet/)).toBeTruthy();
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }));
    expect(screen.getByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(sessionStorage.getItem('todo-chatbot.session')).toBeNull();
  });

  it('a task added in chat shows in the list at once, with a tool-call line', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await within(tasksPane()).findByText(/No tasks yet/);
    await say('remind me to buy milk');
    expect(await within(tasksPane()).findByText('buy milk')).toBeTruthy();
    expect(screen.getByText('Added task 1: buy milk')).toBeTruthy();
    expect(screen.getByText('add_task(title: "buy milk") → #1 buy milk')).toBeTruthy();
  });

  it('ticking a task completes it on the server and the chat answer changes', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await say('add walk the dog');
    await say('add pay rent');
    await say("what's left?");
    expect(screen.getByText(/1\. walk the dog\s+2\. pay rent/)).toBeTruthy();
    const box = await within(tasksPane()).findByRole('checkbox', { name: 'Complete task 1: walk the dog' });
    fireEvent.click(box);
    await waitFor(() => expect(fb.tasks[0].completed).toBe(true));
    expect(fb.calls.some((c) => c.method === 'PATCH' && c.path === '/api/tasks/101')).toBe(true);
    await say("what's left?");
    const replies = screen.getAllByText(/pay rent/).filter((el) => el.classList.contains('msg__text'));
    expect(replies.at(-1)?.textContent).toBe('2. pay rent');
  });

  it('adds, filters, renames inline and deletes from the list', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    const pane = tasksPane();
    fireEvent.change(within(pane).getByLabelText('New task'), { target: { value: 'water plants' } });
    fireEvent.click(within(pane).getByRole('button', { name: 'Add' }));
    await within(pane).findByText('water plants');
    expect((within(pane).getByLabelText('New task') as HTMLInputElement).value).toBe('');

    fireEvent.click(within(pane).getByRole('button', { name: 'Edit: water plants' }));
    const input = within(pane).getByLabelText('Title of task 1');
    expect(document.activeElement).toBe(input);
    fireEvent.change(input, { target: { value: 'water the ferns' } });
    fireEvent.keyDown(input, { key: 'Enter' });
    await within(pane).findByText('water the ferns');
    expect(fb.tasks[0].title).toBe('water the ferns');
    await waitFor(() => expect(document.activeElement).toBe(within(pane).getByRole('button', { name: 'Edit: water the ferns' })));

    fireEvent.click(within(pane).getByRole('button', { name: 'Completed' }));
    await within(pane).findByText('No completed tasks yet.');
    expect(fb.calls.at(-1)?.path).toBe('/api/tasks?status=completed');
    fireEvent.click(within(pane).getByRole('button', { name: 'All' }));
    await within(pane).findByText('water the ferns');

    fireEvent.click(within(pane).getByRole('button', { name: 'Delete: water the ferns' }));
    await within(pane).findByText(/No tasks yet/);
    expect(fb.tasks).toHaveLength(0);
  });

  it('a filter shows its tasks at once and keeps them on screen while the list refreshes', async () => {
    const fb = fakeBackend();
    // The completed list's refresh waits until released.
    let release = () => {};
    const held = new Promise<void>((r) => (release = r));
    let asked = false;
    const fetch = fb.fetch;
    fb.fetch = async (input, init) => {
      if (String(input).includes('status=completed')) {
        asked = true;
        await held;
      }
      return fetch(input, init);
    };
    await signUp(fb);
    await say('add walk the dog');
    await say('add pay rent');
    const pane = tasksPane();
    fireEvent.click(await within(pane).findByRole('checkbox', { name: 'Complete task 1: walk the dog' }));
    await waitFor(() => expect(fb.tasks[0].completed).toBe(true));

    fireEvent.click(within(pane).getByRole('button', { name: 'Completed' }));
    // Not "Loading tasks…": the list it had, filtered here, stays until the refresh lands.
    await waitFor(() => expect(asked).toBe(true));
    expect(within(pane).queryByText('Loading tasks…')).toBeNull();
    expect(within(pane).getByText('walk the dog')).toBeTruthy();
    expect(within(pane).queryByText('pay rent')).toBeNull();
    await act(async () => release());
    expect(within(pane).getAllByRole('listitem').map((li) => li.querySelector('.task__title')?.textContent)).toEqual([
      'walk the dog',
    ]);
  });

  it('Escape cancels an inline edit', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await say('add read a book');
    const pane = tasksPane();
    fireEvent.click(await within(pane).findByRole('button', { name: 'Edit: read a book' }));
    const input = within(pane).getByLabelText('Title of task 1');
    fireEvent.change(input, { target: { value: 'nope' } });
    fireEvent.keyDown(input, { key: 'Escape' });
    expect(within(pane).getByText('read a book')).toBeTruthy();
    expect(fb.calls.some((c) => c.method === 'PATCH')).toBe(false);
  });

  it('renders user HTML as text, never as markup', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    const evil = '<img src=x onerror="window.__pwned=1"><b>bold</b>';
    await say(`add ${evil}`);
    const pane = tasksPane();
    expect(await within(pane).findByText(evil)).toBeTruthy();
    expect(document.querySelector('img')).toBeNull();
    expect(document.querySelector('.msg b, .task b')).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it('reloads the latest conversation from the server', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await say('add call mom');
    cleanupAndRender(fb); // the session is still in sessionStorage, as after a reload
    expect(await screen.findByText('Added task 1: call mom')).toBeTruthy();
    expect(screen.getByText('add call mom')).toBeTruthy();
    await say('add second');
    const chats = fb.calls.filter((c) => c.path === '/api/chat');
    expect(chats.at(-1)?.body).toEqual({ message: 'add second', conversation_id: 1, seen_message_id: 2 });
  });

  it('shows unreachable with a retry that recovers', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await within(tasksPane()).findByText(/No tasks yet/);
    fb.down = true;
    fireEvent.change(within(tasksPane()).getByLabelText('New task'), { target: { value: 'x' } });
    fireEvent.click(within(tasksPane()).getByRole('button', { name: 'Add' }));
    expect(await within(tasksPane()).findByText(/Could not add the task: Cannot reach the server/)).toBeTruthy();

    cleanupAndRender(fb);
    const alerts = await screen.findAllByRole('alert');
    expect(alerts.map((a) => a.textContent).join(' ')).toMatch(/Cannot reach the server/);
    fb.down = false;
    fb.tasks.push({ id: 9, number: 9, title: 'back online', description: '', completed: false, created_at: '', updated_at: '' });
    for (const b of screen.getAllByRole('button', { name: 'Retry' })) fireEvent.click(b);
    expect(await screen.findByText('back online')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('a failed message can be sent again', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await screen.findByText(/Tell me what to do/);
    fb.down = true;
    await say('add eggs');
    expect(screen.getByText('Not sent.')).toBeTruthy();
    fb.down = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('Added task 1: eggs')).toBeTruthy();
    expect(screen.queryByText('Not sent.')).toBeNull();
    // Trying again is the same action: the server sees the same Idempotency-Key both times.
    const chats = fb.calls.filter((c) => c.path === '/api/chat');
    expect(chats).toHaveLength(2);
    expect(chats[0].idempotencyKey).toMatch(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/);
    expect(chats[1].idempotencyKey).toBe(chats[0].idempotencyKey);
  });

  it('an expired session goes back to the login screen with a notice', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    fb.expired = true;
    await act(async () => {
      fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'add x' } });
      fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    });
    expect(await screen.findByRole('heading', { name: 'Log in' })).toBeTruthy();
    expect(screen.getByRole('status').textContent).toMatch(/session has expired/);
    expect(sessionStorage.getItem('todo-chatbot.session')).toBeNull();
  });
});

function cleanupAndRender(fb: FakeBackend) {
  cleanup();
  render(<App fetch={fb.fetch} />);
}
