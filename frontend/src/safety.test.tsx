// The list and the chat never lose data or claim something untrue: undo after delete, no
// second row from a double click, last click wins, inline failures, honest chat status.
import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { App } from './App';
import { suggestionsFor } from './components/ChatPane';
import { fakeBackend, type FakeBackend } from './test/fakeBackend';

async function signUp(fb: FakeBackend) {
  render(<App fetch={fb.fetch} />);
  fireEvent.click(screen.getByRole('button', { name: 'Create an account' }));
  fireEvent.change(screen.getByLabelText('Email'), { target: { value: 'ann@example.com' } });
  fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'correct horse' } });
  fireEvent.click(screen.getByRole('button', { name: 'Sign up' }));
  await screen.findByRole('button', { name: 'Log out' });
}

const tasksPane = () => screen.getByRole('region', { name: 'Tasks' });

async function addInList(title: string) {
  fireEvent.change(within(tasksPane()).getByLabelText('New task'), { target: { value: title } });
  fireEvent.click(within(tasksPane()).getByRole('button', { name: 'Add' }));
  await within(tasksPane()).findByText(title);
}

async function say(text: string) {
  fireEvent.change(screen.getByLabelText('Message'), { target: { value: text } });
  // The composer takes a message only once the conversation has loaded (Send enabled).
  await waitFor(() => expect(screen.getByRole('button', { name: 'Send' })).toHaveProperty('disabled', false));
  fireEvent.click(screen.getByRole('button', { name: 'Send' }));
  await waitFor(() => expect(screen.getByRole('button', { name: /Send/ })).toHaveProperty('textContent', 'Send'));
}

describe('safety', () => {
  it('shows per-user task numbers, not internal ids', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('buy milk');
    const row = within(tasksPane()).getByText('buy milk').closest('li')!;
    expect(row.querySelector('.task__id')?.textContent).toBe('Task number #1');
    expect(row.querySelector('[aria-hidden="true"].task__id')).toBeNull();
    expect(fb.tasks[0].id).not.toBe(1);
  });

  it('suggests completing a task the user actually has', () => {
    const t = (number: number, completed: boolean) => ({
      id: number + 500, number, title: 'x', description: '', completed, created_at: '', updated_at: '',
    });
    expect(suggestionsFor([])).not.toContain('Mark 1 as done');
    expect(suggestionsFor([t(1, true), t(4, false)])).toContain('Mark 4 as done');
  });

  it('a delete can be undone from the toast', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('buy milk');
    fireEvent.click(within(tasksPane()).getByRole('button', { name: 'Delete: buy milk' }));
    await waitFor(() => expect(within(tasksPane()).queryByText('buy milk')).toBeNull());
    fireEvent.click(await screen.findByRole('button', { name: 'Undo' }));
    expect(await within(tasksPane()).findByText('buy milk')).toBeTruthy();
    expect(fb.calls.some((c) => c.method === 'POST' && /\/restore$/.test(c.path))).toBe(true);
  });

  it('the second click of a double click on Delete deletes nothing more', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('one');
    await addInList('two');
    fireEvent.click(within(tasksPane()).getByRole('button', { name: 'Delete: one' }), { detail: 1 });
    // The row below has moved up; the double click's second click lands on it.
    const two = await within(tasksPane()).findByRole('button', { name: 'Delete: two' });
    fireEvent.click(two, { detail: 2 });
    fireEvent.click(two, { detail: 1 }); // and a fast second single click, too
    await waitFor(() => expect(fb.tasks.map((t) => t.title)).toEqual(['two']));
    expect(fb.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
  });

  it('tick then untick on a slow server ends unticked: the last click wins', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('walk the dog');
    fb.patchDelays = [300, 0];
    const pane = within(tasksPane());
    fireEvent.click(pane.getByRole('checkbox', { name: 'Complete task 1: walk the dog' }));
    fireEvent.click(pane.getByRole('checkbox', { name: 'Completed task 1: walk the dog' }));
    await waitFor(() => expect(fb.calls.filter((c) => c.method === 'PATCH')).toHaveLength(2), { timeout: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    expect(fb.tasks[0].completed).toBe(false);
    expect((pane.getByRole('checkbox', { name: /walk the dog/ }) as HTMLInputElement).checked).toBe(false);
  });

  it('a failed tick is reported on the task and the list stays', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('pay rent');
    fb.down = true;
    fireEvent.click(within(tasksPane()).getByRole('checkbox', { name: 'Complete task 1: pay rent' }));
    const row = within(tasksPane()).getByText('pay rent').closest('li')!;
    expect((await within(row).findByRole('alert')).textContent).toMatch(/Could not update the task/);
    expect(within(tasksPane()).getByText('pay rent')).toBeTruthy();
    expect(within(tasksPane()).queryByRole('button', { name: 'Retry' })).toBeNull();
  });

  it('counts characters, never truncates, and refuses only over the limit', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    const input = within(tasksPane()).getByLabelText('New task') as HTMLInputElement;
    const add = within(tasksPane()).getByRole('button', { name: 'Add' }) as HTMLButtonElement;
    fireEvent.change(input, { target: { value: '😀'.repeat(200) } });
    expect(within(tasksPane()).getByText('200 / 500')).toBeTruthy();
    expect(add.disabled).toBe(false);
    const paste = 'x'.repeat(10_000);
    fireEvent.change(input, { target: { value: paste } });
    expect(input.value).toHaveLength(10_000);
    expect(within(tasksPane()).getByText(/10000 \/ 500 characters — 9500 too many/)).toBeTruthy();
    expect(add.disabled).toBe(true);
    expect(input.getAttribute('aria-invalid')).toBe('true');
  });

  it('every chat send and task create carries an idempotency key; a retry reuses it', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await addInList('buy milk');
    const create = fb.calls.find((c) => c.method === 'POST' && c.path === '/api/tasks');
    expect(create?.idempotencyKey).toMatch(/^[0-9a-f-]{36}$/);
    await screen.findByText(/Tell me what to do/);
    fb.down = true;
    await say('add eggs');
    fb.down = false;
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText('Added task 2: eggs');
    const keys = fb.calls.filter((c) => c.path === '/api/chat').map((c) => c.idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('a reply lost on the way is recovered from the conversation, not shown as "Not sent"', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await screen.findByText(/Tell me what to do/);
    fb.dropChatReply = true;
    await say('add eggs');
    fb.dropChatReply = false;
    expect(await screen.findByText('Added task 1: eggs')).toBeTruthy();
    expect(screen.queryByText('Not sent.')).toBeNull();
    expect(await within(tasksPane()).findByText('eggs')).toBeTruthy();
  });

  it('a reload while a reply is on its way waits for it instead of losing the message', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await screen.findByText(/Tell me what to do/);
    fb.chatDelayMs = 400;
    fireEvent.change(screen.getByLabelText('Message'), { target: { value: 'add eggs' } });
    fireEvent.click(screen.getByRole('button', { name: 'Send' }));
    await waitFor(() => expect(fb.calls.some((c) => c.path === '/api/chat')).toBe(true));
    cleanup(); // the tab reloads; the server is still working on the turn
    render(<App fetch={fb.fetch} />);
    expect(await screen.findByText('add eggs')).toBeTruthy(); // shown as pending at once
    expect(await screen.findByText('Added task 1: eggs', {}, { timeout: 4000 })).toBeTruthy();
    expect(screen.queryByText('Not sent.')).toBeNull();
    expect(sessionStorage.getItem('todo-chatbot.pending-chat')).toBeNull();
  });

  it('"New chat" keeps earlier conversations one pick away', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    await screen.findByText(/Tell me what to do/);
    await say('add first thing');
    fireEvent.click(screen.getByRole('button', { name: 'New chat' }));
    await say('add second thing');
    const picker = screen.getByRole('combobox', { name: 'Conversations' }) as HTMLSelectElement;
    const first = [...picker.options].find((o) => o.text.startsWith('add first thing'));
    expect(first).toBeTruthy();
    fireEvent.change(picker, { target: { value: first!.value } });
    expect(await screen.findByText('Added task 1: first thing')).toBeTruthy();
    expect(screen.queryByText('Added task 2: second thing')).toBeNull();
  });

  it('logging out revokes the token on the server', async () => {
    const fb = fakeBackend();
    await signUp(fb);
    const token = JSON.parse(sessionStorage.getItem('todo-chatbot.session')!).token;
    fireEvent.click(screen.getByRole('button', { name: 'Log out' }));
    await waitFor(() => expect(fb.loggedOut).toEqual([`Bearer ${token}`]));
  });
});
