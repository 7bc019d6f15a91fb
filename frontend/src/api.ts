// Typed client for the todo-chatbot backend API (docs/contracts.md).
// Every request goes to a same-origin `/api/...` path: nginx proxies it to the backend.

export interface User {
  id: number | string;
  email: string;
}

export interface AuthResult {
  token: string;
  user: User;
}

export interface Task {
  /** Internal id: only for API URLs. */
  id: number;
  /** The user's own task number (1, 2, 3…): what the UI shows and the chat understands. */
  number: number;
  title: string;
  description: string;
  completed: boolean;
  created_at: string;
  updated_at: string;
}

export type TaskFilter = 'all' | 'pending' | 'completed';

export interface TaskPatch {
  title?: string;
  description?: string;
  completed?: boolean;
}

export type ConversationId = number | string;

export interface ToolCall {
  /** Present on stored assistant messages: pairs the call with its `tool` result message. */
  id?: string;
  name: string;
  arguments: unknown;
  result: unknown;
}

export interface ChatReply {
  conversation_id: ConversationId;
  /** Id of the last message the turn stored: this client has now seen up to it. */
  message_id?: number;
  reply: string;
  tool_calls: ToolCall[];
}

export interface Conversation {
  id: ConversationId;
  title?: string;
  created_at?: string;
  updated_at?: string;
}

export type Role = 'user' | 'assistant' | 'tool' | 'system';

export interface Message {
  id: number | string;
  role: Role;
  content: string;
  tool_calls: ToolCall[];
  /** On a `tool` message: the id of the call whose result `content` holds. */
  tool_call_id?: string;
  created_at?: string;
}

/**
 * What went wrong, in terms the UI acts on:
 * - network: the backend (or nginx in front of it) could not be reached — offer a retry.
 * - session_expired: an authenticated call answered 401 — go back to the login screen.
 * - unauthorized: wrong credentials on login.
 * - conflict: e.g. the email is already registered.
 * - invalid: the server rejected the input (400/413/422).
 * - not_found, rate_limited, server: as they say.
 */
export type ApiErrorKind =
  | 'network'
  | 'session_expired'
  | 'unauthorized'
  | 'conflict'
  | 'invalid'
  | 'not_found'
  | 'rate_limited'
  | 'server';

export class ApiError extends Error {
  readonly kind: ApiErrorKind;
  readonly status: number;

  constructor(kind: ApiErrorKind, status: number, message: string) {
    super(message);
    this.name = 'ApiError';
    this.kind = kind;
    this.status = status;
  }
}

export function isApiError(e: unknown, kind?: ApiErrorKind): e is ApiError {
  return e instanceof ApiError && (kind === undefined || e.kind === kind);
}

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiOptions {
  baseUrl?: string;
  fetch?: FetchLike;
  /** Returns the current JWT, or null when logged out. */
  getToken?: () => string | null;
  /** Called once per authenticated request that answered 401. */
  onSessionExpired?: () => void;
  /** Abort a request after this many milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Abort a chat request after this many milliseconds (default CHAT_CLIENT_TIMEOUT_MS). */
  chatTimeoutMs?: number;
}

/**
 * One chat turn's time budget, end to end: the server stops a turn after CHAT_SERVER_TIMEOUT_MS
 * (backend httpapi.ChatTimeout), nginx waits CHAT_PROXY_TIMEOUT_MS for the answer
 * (nginx.conf proxy_read_timeout) and the client waits longer than both, so it never gives up
 * on a turn the server is still working on. timeouts.test.ts proves the three files agree.
 */
export const CHAT_SERVER_TIMEOUT_MS = 100_000;
export const CHAT_PROXY_TIMEOUT_MS = 120_000;
export const CHAT_CLIENT_TIMEOUT_MS = CHAT_PROXY_TIMEOUT_MS + 5_000;

/** Header carrying the key (the backend's IdempotencyHeader). */
export const IDEMPOTENCY_HEADER = 'Idempotency-Key';

/** A fresh idempotency key for one user action (reused on that action's retries). */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Length as the server counts it: Unicode code points, not UTF-16 units or bytes. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Limits the server enforces, in characters. */
export const MAX_TITLE_CHARS = 500;
export const MAX_MESSAGE_CHARS = 4000;

const DEFAULT_MESSAGES: Record<ApiErrorKind, string> = {
  network: 'Cannot reach the server.',
  session_expired: 'Your session has expired. Please log in again.',
  unauthorized: 'Wrong email or password.',
  conflict: 'That already exists.',
  invalid: 'The request was not accepted.',
  not_found: 'Not found.',
  rate_limited: 'Too many attempts. Please wait a moment and try again.',
  server: 'The server had a problem. Please try again.',
};

function kindForStatus(status: number, authenticated: boolean): ApiErrorKind {
  if (status === 401) return authenticated ? 'session_expired' : 'unauthorized';
  if (status === 409) return 'conflict';
  if (status === 400 || status === 413 || status === 422) return 'invalid';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  // nginx answers 502/503/504 itself when the backend is down or slow.
  if (status === 502 || status === 503 || status === 504) return 'network';
  return 'server';
}

/** Accepts a bare array or an object wrapping it under one of the usual keys. */
function listOf(body: unknown, ...keys: string[]): unknown[] {
  if (Array.isArray(body)) return body;
  if (body && typeof body === 'object') {
    const obj = body as Record<string, unknown>;
    for (const k of [...keys, 'items', 'data']) {
      if (Array.isArray(obj[k])) return obj[k] as unknown[];
    }
  }
  return [];
}

export function parseMaybeJson(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim();
  if (!(s.startsWith('{') || s.startsWith('['))) return v;
  try {
    return JSON.parse(s);
  } catch {
    return v;
  }
}

export function normalizeToolCall(raw: unknown): ToolCall {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const fn = (o.function && typeof o.function === 'object' ? o.function : {}) as Record<string, unknown>;
  const call: ToolCall = {
    name: String(o.name ?? fn.name ?? 'tool'),
    arguments: parseMaybeJson(o.arguments ?? fn.arguments ?? {}),
    result: parseMaybeJson(o.result ?? o.output ?? null),
  };
  if (typeof o.id === 'string' && o.id) call.id = o.id;
  return call;
}

function toolCallsOf(raw: unknown): ToolCall[] {
  const parsed = parseMaybeJson(raw);
  return Array.isArray(parsed) ? parsed.map(normalizeToolCall) : [];
}

export function normalizeMessage(raw: unknown, index = 0): Message {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const role = String(o.role ?? 'assistant');
  const known: Role[] = ['user', 'assistant', 'tool', 'system'];
  return {
    id: (o.id as number | string | undefined) ?? `m${index}`,
    role: (known as string[]).includes(role) ? (role as Role) : 'assistant',
    content: typeof o.content === 'string' ? o.content : o.content == null ? '' : JSON.stringify(o.content),
    tool_calls: toolCallsOf(o.tool_calls),
    tool_call_id: typeof o.tool_call_id === 'string' && o.tool_call_id ? o.tool_call_id : undefined,
    created_at: typeof o.created_at === 'string' ? o.created_at : undefined,
  };
}

function normalizeTask(raw: unknown): Task {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  return {
    id: Number(o.id),
    number: Number(o.number ?? o.id),
    title: String(o.title ?? ''),
    description: typeof o.description === 'string' ? o.description : '',
    completed: Boolean(o.completed),
    created_at: String(o.created_at ?? ''),
    updated_at: String(o.updated_at ?? ''),
  };
}

function timeOf(c: Conversation): number {
  const t = Date.parse(c.updated_at ?? c.created_at ?? '');
  return Number.isNaN(t) ? 0 : t;
}

/** The most recently active conversation, or null when there is none. */
export function latestConversation(list: Conversation[]): Conversation | null {
  let best: Conversation | null = null;
  for (const c of list) {
    if (best === null) {
      best = c;
      continue;
    }
    const dt = timeOf(c) - timeOf(best);
    if (dt > 0 || (dt === 0 && Number(c.id) > Number(best.id))) best = c;
  }
  return best;
}

export interface ChatOptions {
  /** Same key on a retry of the same message: the server answers it once. */
  idempotencyKey?: string;
  /** Last message id of the conversation this client has shown. */
  seenMessageId?: number | null;
}

export interface Api {
  signup(email: string, password: string): Promise<AuthResult>;
  login(email: string, password: string): Promise<AuthResult>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  createTask(title: string, description?: string, idempotencyKey?: string): Promise<Task>;
  updateTask(id: number, patch: TaskPatch): Promise<Task>;
  deleteTask(id: number): Promise<void>;
  restoreTask(id: number): Promise<Task>;
  chat(message: string, conversationId?: ConversationId | null, opts?: ChatOptions): Promise<ChatReply>;
  logout(): Promise<void>;
  listConversations(): Promise<Conversation[]>;
  listMessages(conversationId: ConversationId): Promise<Message[]>;
}

export function createApi(opts: ApiOptions = {}): Api {
  const base = (opts.baseUrl ?? '/api').replace(/\/+$/, '');
  const doFetch: FetchLike = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const chatTimeoutMs = opts.chatTimeoutMs ?? CHAT_CLIENT_TIMEOUT_MS;

  async function request<T>(
    method: string,
    path: string,
    body?: unknown,
    authenticated = true,
    extra: { headers?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (authenticated) {
      const token = opts.getToken?.();
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    const controller = typeof AbortController !== 'undefined' ? new AbortController() : undefined;
    const timer = controller ? setTimeout(() => controller.abort(), extra.timeoutMs ?? timeoutMs) : undefined;
    let res: Response;
    try {
      res = await doFetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller?.signal,
        credentials: 'same-origin',
      });
    } catch {
      throw new ApiError('network', 0, DEFAULT_MESSAGES.network);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }

    let text = '';
    try {
      text = await res.text();
    } catch {
      throw new ApiError('network', res.status, DEFAULT_MESSAGES.network);
    }
    let data: unknown = undefined;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = undefined;
      }
    }

    if (!res.ok) {
      const kind = kindForStatus(res.status, authenticated);
      if (kind === 'session_expired') opts.onSessionExpired?.();
      const serverMsg =
        data && typeof data === 'object' && typeof (data as { error?: unknown }).error === 'string'
          ? (data as { error: string }).error
          : '';
      // Prefer our wording for kinds whose meaning the UI relies on.
      const useServer = serverMsg && (kind === 'invalid' || kind === 'conflict' || kind === 'not_found');
      throw new ApiError(kind, res.status, useServer ? serverMsg : DEFAULT_MESSAGES[kind]);
    }
    if (text && data === undefined) {
      // A 200 that is not JSON: most likely an HTML page from a misrouted proxy.
      throw new ApiError('network', res.status, DEFAULT_MESSAGES.network);
    }
    return data as T;
  }

  return {
    async signup(email, password) {
      return request<AuthResult>('POST', '/auth/signup', { email, password }, false);
    },
    async login(email, password) {
      return request<AuthResult>('POST', '/auth/login', { email, password }, false);
    },
    async listTasks(filter = 'all') {
      const body = await request<unknown>('GET', `/tasks?status=${encodeURIComponent(filter)}`);
      return listOf(body, 'tasks').map(normalizeTask);
    },
    async createTask(title, description, idempotencyKey) {
      const payload: { title: string; description?: string } = { title };
      if (description) payload.description = description;
      // Every create carries a key, so any retry of this request can never add a second task.
      const headers = { [IDEMPOTENCY_HEADER]: idempotencyKey ?? newIdempotencyKey() };
      return normalizeTask(await request<unknown>('POST', '/tasks', payload, true, { headers }));
    },
    async updateTask(id, patch) {
      return normalizeTask(await request<unknown>('PATCH', `/tasks/${encodeURIComponent(String(id))}`, patch));
    },
    async deleteTask(id) {
      await request<unknown>('DELETE', `/tasks/${encodeURIComponent(String(id))}`);
    },
    async restoreTask(id) {
      return normalizeTask(await request<unknown>('POST', `/tasks/${encodeURIComponent(String(id))}/restore`));
    },
    async chat(message, conversationId, chatOpts = {}) {
      const payload: { message: string; conversation_id?: ConversationId; seen_message_id?: number } = { message };
      if (conversationId !== null && conversationId !== undefined) payload.conversation_id = conversationId;
      if (typeof chatOpts.seenMessageId === 'number') payload.seen_message_id = chatOpts.seenMessageId;
      const headers = { [IDEMPOTENCY_HEADER]: chatOpts.idempotencyKey ?? newIdempotencyKey() };
      const body = await request<Record<string, unknown>>('POST', '/chat', payload, true, {
        headers,
        timeoutMs: chatTimeoutMs,
      });
      return {
        conversation_id: body.conversation_id as ConversationId,
        message_id: typeof body.message_id === 'number' ? body.message_id : undefined,
        reply: typeof body.reply === 'string' ? body.reply : '',
        tool_calls: toolCallsOf(body.tool_calls),
      };
    },
    async logout() {
      await request<unknown>('POST', '/auth/logout');
    },
    async listConversations() {
      const body = await request<unknown>('GET', '/conversations');
      return listOf(body, 'conversations') as Conversation[];
    },
    async listMessages(conversationId) {
      const body = await request<unknown>(
        'GET',
        `/conversations/${encodeURIComponent(String(conversationId))}/messages`,
      );
      return listOf(body, 'messages').map(normalizeMessage);
    },
  };
}
