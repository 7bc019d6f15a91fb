// An in-memory stand-in for the backend API (docs/contracts.md), driven through a fake fetch.
// Enough behaviour for the components' logic: auth, tasks, a tiny chat agent, history.
import type { FetchLike, Task as FTask } from '../api';
interface FMessage {
  id: number;
  role: 'user' | 'assistant';
  content: string;
  tool_calls?: unknown[];
  created_at: string;
}

export interface FakeBackend {
  fetch: FetchLike;
  calls: { method: string; path: string; body?: unknown; auth?: string; idempotencyKey?: string }[];
  tasks: FTask[];
  conversations: { id: number; created_at: string; updated_at: string; messages: FMessage[] }[];
  /** When set, every request fails as if the network were down. */
  down: boolean;
  /** When set, authenticated requests answer 401. */
  expired: boolean;
  users: Map<string, string>;
  /** Deleted tasks, restorable. */
  deleted: FTask[];
  /** Authorization headers of logout calls. */
  loggedOut: (string | undefined)[];
  /** Delay before a chat reply (after the turn is stored), in ms. */
  chatDelayMs: number;
  /** When set, the chat turn is stored but its answer never reaches the client. */
  dropChatReply: boolean;
  /** Delay before answering a PATCH, per call (first, second, ...), in ms. */
  patchDelays: number[];
}

const json = (status: number, body: unknown) =>
  new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });

export function fakeBackend(): FakeBackend {
  let nextTask = 1;
  let clock = Date.parse('2026-01-01T00:00:00Z');
  const now = () => new Date((clock += 1000)).toISOString();

  const fb: FakeBackend = {
    calls: [],
    tasks: [],
    conversations: [],
    down: false,
    expired: false,
    users: new Map(),
    deleted: [],
    loggedOut: [],
    chatDelayMs: 0,
    dropChatReply: false,
    patchDelays: [],
    fetch: async (input, init) => {
      const url = new URL(input, 'http://app.test');
      const method = init?.method ?? 'GET';
      const headers = (init?.headers ?? {}) as Record<string, string>;
      const body = init?.body ? JSON.parse(String(init.body)) : undefined;
      fb.calls.push({
        method,
        path: url.pathname + url.search,
        body,
        auth: headers.Authorization,
        idempotencyKey: headers['Idempotency-Key'],
      });
      if (fb.down) throw new TypeError('Failed to fetch');
      const p = url.pathname;

      if (p === '/api/auth/signup' || p === '/api/auth/login') {
        const { email, password } = body as { email: string; password: string };
        if (p.endsWith('signup')) {
          if (!email.includes('@')) return json(400, { error: 'invalid email' });
          if (password.length < 8) return json(400, { error: 'password must be at least 8 characters' });
          if (fb.users.has(email)) return json(409, { error: 'email already registered' });
          fb.users.set(email, password);
          return json(201, { token: 'tok.' + btoa(JSON.stringify({ sub: email })) + '.sig', user: { id: 1, email } });
        }
        if (fb.users.get(email) !== password) return json(401, { error: 'invalid credentials' });
        return json(200, { token: 'tok.e30.sig', user: { id: 1, email } });
      }

      if (!headers.Authorization?.startsWith('Bearer ') || fb.expired) return json(401, { error: 'unauthorized' });

      const addTask = (title: string, description = '') => {
        const n = nextTask++;
        // Ids and numbers differ, as they do for every user but the first on a real server.
        const t = { id: n + 100, number: n, title, description, completed: false, created_at: now(), updated_at: now() };
        fb.tasks.push(t);
        return t;
      };

      if (p === '/api/tasks' && method === 'GET') {
        const s = url.searchParams.get('status') ?? 'all';
        return json(200, fb.tasks.filter((t) => s === 'all' || (s === 'completed') === t.completed));
      }
      if (p === '/api/tasks' && method === 'POST') return json(201, addTask(body.title, body.description));
      const rm = /^\/api\/tasks\/(\d+)\/restore$/.exec(p);
      if (rm && method === 'POST') {
        const t = fb.deleted.find((x) => x.id === Number(rm[1]));
        if (!t) return json(404, { error: 'task not found' });
        fb.deleted = fb.deleted.filter((x) => x !== t);
        fb.tasks = [...fb.tasks, t].sort((a, b) => a.id - b.id);
        return json(200, t);
      }
      if (p === '/api/auth/logout' && method === 'POST') {
        fb.loggedOut.push(headers.Authorization);
        return new Response(null, { status: 204 });
      }
      const m = /^\/api\/tasks\/(\d+)$/.exec(p);
      if (m) {
        const t = fb.tasks.find((x) => x.id === Number(m[1]));
        if (!t) return json(404, { error: 'task not found' });
        if (method === 'PATCH') {
          const delay = fb.patchDelays.shift();
          if (delay) await new Promise((r) => setTimeout(r, delay));
          Object.assign(t, body, { updated_at: now() });
          return json(200, t);
        }
        if (method === 'DELETE') {
          fb.tasks = fb.tasks.filter((x) => x !== t);
          fb.deleted.push(t);
          return new Response(null, { status: 204 });
        }
        return json(200, t);
      }

      if (p === '/api/chat') {
        let conv = fb.conversations.find((c) => c.id === body.conversation_id);
        if (!conv) {
          conv = { id: fb.conversations.length + 1, created_at: now(), updated_at: now(), messages: [] };
          fb.conversations.push(conv);
        }
        const msg = String(body.message);
        const tool_calls: { name: string; arguments: unknown; result: unknown }[] = [];
        let reply: string;
        let mm: RegExpExecArray | null;
        if ((mm = /^(?:add|remind me to) (.+)$/i.exec(msg))) {
          const t = addTask(mm[1]);
          tool_calls.push({ name: 'add_task', arguments: { title: mm[1] }, result: t });
          reply = `Added task ${t.number}: ${t.title}`;
        } else if ((mm = /^(?:done|complete) (\d+)$/i.exec(msg))) {
          const t = fb.tasks.find((x) => x.number === Number(mm![1]));
          if (t) t.completed = true;
          tool_calls.push({ name: 'complete_task', arguments: { task_id: Number(mm[1]) }, result: t ?? { error: 'not found' } });
          reply = t ? `Completed task ${t.number}: ${t.title}` : 'No such task.';
        } else if (/left|list/i.test(msg)) {
          const pending = fb.tasks.filter((t) => !t.completed);
          tool_calls.push({ name: 'list_tasks', arguments: { status: 'pending' }, result: pending });
          reply = pending.length ? pending.map((t) => `${t.number}. ${t.title}`).join('\n') : 'Nothing left!';
        } else {
          reply = "Sorry, I didn't understand.";
        }
        const store = () => {
          // Messages are numbered 1, 2, 3… within their conversation, as the server numbers them.
          const n = conv!.messages.length;
          conv!.messages.push({ id: n + 1, role: 'user', content: msg, created_at: now() });
          conv!.messages.push({ id: n + 2, role: 'assistant', content: reply, tool_calls, created_at: now() });
          conv!.updated_at = now();
        };
        // A real server stores the turn at its end: chatDelayMs is the time before that.
        if (fb.chatDelayMs) await new Promise((r) => setTimeout(r, fb.chatDelayMs));
        store();
        if (fb.dropChatReply) throw new TypeError('Failed to fetch'); // stored, answer lost
        return json(200, { conversation_id: conv.id, message_id: conv.messages.length, reply, tool_calls });
      }
      if (p === '/api/conversations') {
        return json(
          200,
          fb.conversations.map(({ id, created_at, updated_at }) => ({ id, created_at, updated_at })),
        );
      }
      const cm = /^\/api\/conversations\/(\d+)\/messages$/.exec(p);
      if (cm) {
        const conv = fb.conversations.find((c) => c.id === Number(cm[1]));
        if (!conv) return json(404, { error: 'conversation not found' });
        return json(200, conv.messages);
      }
      return json(404, { error: 'not found' });
    },
  };
  return fb;
}
