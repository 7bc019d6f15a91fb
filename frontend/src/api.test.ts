import { describe, expect, it, vi } from 'vitest';
import {
  ApiError,
  createApi,
  isApiError,
  latestConversation,
  newIdempotencyKey,
  normalizeMessage,
  type FetchLike,
} from './api';

function respond(status: number, body?: unknown, raw?: string): FetchLike {
  return vi.fn(async () => new Response(raw ?? (body === undefined ? null : JSON.stringify(body)), { status }));
}

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

describe('api client', () => {
  it('signs up with a JSON body and no Authorization header', async () => {
    const fetch = vi.fn<FetchLike>(async () => new Response(JSON.stringify({ token: 't', user: { id: 1, email: 'a@b.c' } }), { status: 201 }));
    const api = createApi({ fetch, getToken: () => 'old' });
    const r = await api.signup('a@b.c', 'secret123');
    expect(r.token).toBe('t');
    const [url, init] = fetch.mock.calls[0];
    expect(url).toBe('/api/auth/signup');
    expect(init?.method).toBe('POST');
    expect(JSON.parse(String(init?.body))).toEqual({ email: 'a@b.c', password: 'secret123' });
    const h = init?.headers as Record<string, string>;
    expect(h.Authorization).toBeUndefined();
    expect(h['Content-Type']).toBe('application/json');
  });

  it('treats 401 on login as wrong credentials, not an expired session', async () => {
    const onSessionExpired = vi.fn();
    const api = createApi({ fetch: respond(401, { error: 'invalid credentials' }), onSessionExpired });
    const e = await caught(api.login('a@b.c', 'nope'));
    expect(e.kind).toBe('unauthorized');
    expect(onSessionExpired).not.toHaveBeenCalled();
  });

  it('treats 401 on an authenticated call as an expired session and says so once', async () => {
    const onSessionExpired = vi.fn();
    const api = createApi({ fetch: respond(401, { error: 'token expired' }), getToken: () => 'x', onSessionExpired });
    const e = await caught(api.listTasks());
    expect(e.kind).toBe('session_expired');
    expect(e.status).toBe(401);
    expect(onSessionExpired).toHaveBeenCalledTimes(1);
  });

  it('maps 409, 400, 404, 429 and 500 to typed kinds', async () => {
    const kinds: [number, string][] = [
      [409, 'conflict'],
      [400, 'invalid'],
      [413, 'invalid'],
      [404, 'not_found'],
      [429, 'rate_limited'],
      [500, 'server'],
    ];
    for (const [status, kind] of kinds) {
      const e = await caught(createApi({ fetch: respond(status, { error: 'server says' }) }).signup('a@b.c', 'x'));
      expect(e.kind).toBe(kind);
    }
  });

  it('keeps the server message for invalid input', async () => {
    const e = await caught(createApi({ fetch: respond(400, { error: 'password must be at least 8 characters' }) }).signup('a@b.c', 'x'));
    expect(e.message).toBe('password must be at least 8 characters');
  });

  it('reports a network failure, a gateway error and an HTML answer as unreachable', async () => {
    const down: FetchLike = async () => {
      throw new TypeError('Failed to fetch');
    };
    expect((await caught(createApi({ fetch: down }).listTasks())).kind).toBe('network');
    expect((await caught(createApi({ fetch: respond(502, undefined, '<html>Bad Gateway</html>') }).listTasks())).kind).toBe('network');
    expect((await caught(createApi({ fetch: respond(504) }).listTasks())).kind).toBe('network');
    expect((await caught(createApi({ fetch: respond(200, undefined, '<!doctype html>') }).listTasks())).kind).toBe('network');
  });

  it('aborts a request that takes too long', async () => {
    const hang: FetchLike = (_u, init) =>
      new Promise((_res, rej) => init?.signal?.addEventListener('abort', () => rej(new DOMException('aborted', 'AbortError'))));
    const e = await caught(createApi({ fetch: hang, timeoutMs: 10 }).listTasks());
    expect(e.kind).toBe('network');
  });

  it('sends the bearer token and the status filter when listing tasks', async () => {
    const fetch = vi.fn<FetchLike>(async () => new Response(JSON.stringify([{ id: 3, title: 'x', completed: true }]), { status: 200 }));
    const tasks = await createApi({ fetch, getToken: () => 'jwt' }).listTasks('completed');
    expect(fetch.mock.calls[0][0]).toBe('/api/tasks?status=completed');
    expect((fetch.mock.calls[0][1]?.headers as Record<string, string>).Authorization).toBe('Bearer jwt');
    expect(tasks).toEqual([{ id: 3, number: 3, title: 'x', description: '', completed: true, created_at: '', updated_at: '' }]);
  });

  it('accepts lists wrapped in an object', async () => {
    const api = createApi({ fetch: respond(200, { tasks: [{ id: 1, title: 'a' }] }) });
    expect((await api.listTasks()).map((t) => t.id)).toEqual([1]);
  });

  it('patches and deletes by id, tolerating an empty 204', async () => {
    const fetch = vi.fn<FetchLike>(async (_u, init) =>
      init?.method === 'DELETE' ? new Response(null, { status: 204 }) : new Response(JSON.stringify({ id: 5, title: 'b', completed: true })),
    );
    const api = createApi({ fetch });
    expect((await api.updateTask(5, { completed: true })).completed).toBe(true);
    await api.deleteTask(5);
    expect(fetch.mock.calls.map((c) => `${c[1]?.method} ${c[0]}`)).toEqual(['PATCH /api/tasks/5', 'DELETE /api/tasks/5']);
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ completed: true });
  });

  it('sends the conversation id only when there is one and normalises tool calls', async () => {
    const fetch = vi.fn<FetchLike>(async () =>
      new Response(
        JSON.stringify({
          conversation_id: 9,
          reply: 'Added task 1: milk',
          tool_calls: [{ name: 'add_task', arguments: '{"title":"milk"}', result: { id: 1, title: 'milk' } }],
        }),
      ),
    );
    const api = createApi({ fetch });
    const r = await api.chat('add milk');
    expect(JSON.parse(String(fetch.mock.calls[0][1]?.body))).toEqual({ message: 'add milk' });
    expect(r.tool_calls[0]).toEqual({ name: 'add_task', arguments: { title: 'milk' }, result: { id: 1, title: 'milk' } });
    await api.chat('again', 9);
    expect(JSON.parse(String(fetch.mock.calls[1][1]?.body))).toEqual({ message: 'again', conversation_id: 9 });
  });

  it('loads conversations and messages', async () => {
    const fetch = vi.fn<FetchLike>(async (u) =>
      u === '/api/conversations'
        ? new Response(JSON.stringify({ conversations: [{ id: 1 }, { id: 2 }] }))
        : new Response(JSON.stringify([{ id: 1, role: 'user', content: 'hi' }, { id: 2, role: 'assistant', content: 'hello', tool_calls: null }])),
    );
    const api = createApi({ fetch });
    expect(await api.listConversations()).toHaveLength(2);
    const msgs = await api.listMessages(2);
    expect(fetch.mock.calls[1][0]).toBe('/api/conversations/2/messages');
    expect(msgs.map((m) => [m.role, m.content, m.tool_calls.length])).toEqual([
      ['user', 'hi', 0],
      ['assistant', 'hello', 0],
    ]);
  });

  it('isApiError narrows by kind', () => {
    const e = new ApiError('network', 0, 'x');
    expect(isApiError(e)).toBe(true);
    expect(isApiError(e, 'network')).toBe(true);
    expect(isApiError(e, 'conflict')).toBe(false);
    expect(isApiError(new Error('x'))).toBe(false);
  });
});

describe('latestConversation', () => {
  it('picks the most recently updated, then the highest id', () => {
    expect(latestConversation([])).toBeNull();
    expect(
      latestConversation([
        { id: 1, updated_at: '2026-01-02T00:00:00Z' },
        { id: 2, updated_at: '2026-01-01T00:00:00Z' },
      ])?.id,
    ).toBe(1);
    expect(latestConversation([{ id: 1 }, { id: 3 }, { id: 2 }])?.id).toBe(3);
  });
});

describe('normalizeMessage', () => {
  it('reads OpenAI-style tool calls and unknown roles', () => {
    const m = normalizeMessage({ id: 4, role: 'weird', content: null, tool_calls: [{ function: { name: 'list_tasks', arguments: '{}' } }] });
    expect(m.role).toBe('assistant');
    expect(m.content).toBe('');
    expect(m.tool_calls[0].name).toBe('list_tasks');
  });
});

describe('idempotent writes', () => {
  const task = { id: 7, title: 'buy milk', description: '', completed: false, created_at: '', updated_at: '' };
  const keyOf = (init?: RequestInit) => (init?.headers as Record<string, string>)['Idempotency-Key'];

  it('sends a fresh Idempotency-Key per action on POST /api/tasks and /api/chat, none elsewhere', async () => {
    const fetch = vi.fn<FetchLike>(async (url) =>
      String(url).endsWith('/chat')
        ? new Response(JSON.stringify({ conversation_id: 1, reply: 'ok', tool_calls: [] }), { status: 200 })
        : new Response(JSON.stringify(task), { status: 201 }),
    );
    const api = createApi({ fetch, getToken: () => 't' });
    await api.createTask('buy milk');
    await api.createTask('buy milk');
    await api.chat('add buy milk');
    await api.login('a@b.c', 'password1');
    const keys = fetch.mock.calls.map(([, init]) => keyOf(init));
    expect(keys[0]).toMatch(/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/);
    expect(new Set(keys.slice(0, 3)).size).toBe(3);
    expect(keys[3]).toBeUndefined();
    await api.chat('again', 1, { idempotencyKey: 'given-key' });
    expect(keyOf(fetch.mock.calls[4][1])).toBe('given-key');
  });

  it('sends the same key when the caller retries one action', async () => {
    let n = 0;
    const fetch = vi.fn<FetchLike>(async () => {
      n++;
      if (n === 1) return new Response(JSON.stringify({ error: 'busy' }), { status: 503, headers: { 'Retry-After': '1' } });
      return new Response(JSON.stringify({ conversation_id: 3, reply: 'Added task 7: buy milk', tool_calls: [] }), { status: 200 });
    });
    const api = createApi({ fetch, getToken: () => 't' });
    const key = newIdempotencyKey();
    expect((await caught(api.chat('add buy milk', null, { idempotencyKey: key }))).kind).toBe('network');
    expect((await api.chat('add buy milk', null, { idempotencyKey: key })).conversation_id).toBe(3);
    const sent = fetch.mock.calls.map(([, init]) => [keyOf(init), init?.body]);
    expect(sent[0][0]).toBe(key);
    expect(sent[1]).toEqual(sent[0]);
  });
});
