import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import {
  CHAT_CLIENT_TIMEOUT_MS,
  MAX_MESSAGE_CHARS,
  isApiError,
  latestConversation,
  newIdempotencyKey,
  type Api,
  type Conversation,
  type ConversationId,
  type Message,
  type Task,
} from '../api';
import { messagesToItems, type ChatItem } from '../chatFormat';
import { clearPending, loadPending, savePending, type PendingSend } from '../pendingChat';
import { CharCounter, tooLong } from './CharCounter';
import { ChatMessage } from './ChatMessage';
import { ErrorState } from './ErrorState';

interface Props {
  api: Api;
  /** Called after a reply whose tool calls may have changed the tasks. */
  onTasksChanged: () => void;
  hidden?: boolean;
  /** The user's tasks, for suggestions that fit them. */
  tasks?: Task[];
}

type HistoryStatus = 'loading' | 'ready' | 'error';

/** Suggestions built from the user's own tasks: "Mark 3 as done" names a task they have. */
export function suggestionsFor(tasks: Task[] = []): string[] {
  const pending = tasks.find((t) => !t.completed);
  const out = ['Remind me to buy milk', "What's left?"];
  if (pending) out.push(`Mark ${pending.number} as done`);
  return out;
}

/** Highest stored message id in msgs: how far this client has seen the conversation. */
function lastId(msgs: Message[]): number | null {
  let max: number | null = null;
  for (const m of msgs) if (typeof m.id === 'number' && (max === null || m.id > max)) max = m.id;
  return max;
}

function convLabel(c: Conversation): string {
  const when = c.updated_at ?? c.created_at;
  const d = when ? new Date(when) : null;
  const date = d && !Number.isNaN(d.getTime()) ? d.toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '';
  const title = c.title?.trim() || `Conversation ${String(c.id)}`;
  return date ? `${title} — ${date}` : title;
}

let keySeq = 0;
const nextKey = (p: string) => `${p}-${++keySeq}`;

export function ChatPane({ api, onTasksChanged, hidden, tasks }: Props) {
  const [items, setItems] = useState<ChatItem[]>([]);
  const [conversationId, setConversationId] = useState<ConversationId | null>(null);
  const [conversations, setConversations] = useState<Conversation[]>([]);
  const [elapsed, setElapsed] = useState(0);
  const seenId = useRef<number | null>(null);
  const [history, setHistory] = useState<HistoryStatus>('loading');
  const [historyError, setHistoryError] = useState('');
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();

  const showConversation = useCallback(
    async (id: ConversationId) => {
      const msgs = await api.listMessages(id);
      setItems(messagesToItems(msgs));
      setConversationId(id);
      seenId.current = lastId(msgs);
    },
    [api],
  );

  // Through a ref: history loading must not restart whenever the parent re-renders.
  const tasksChanged = useRef(onTasksChanged);
  tasksChanged.current = onTasksChanged;

  /**
   * After a send failed without an answer (timeout, connection lost), the turn may still have
   * been stored. Reload the conversation: if the message is there, show it with its reply.
   */
  const landed = useCallback(
    async (text: string, conv: ConversationId | null, seen: number | null, known: Set<string>) => {
      try {
        let id = conv;
        if (id === null) {
          const list = await api.listConversations();
          setConversations(list);
          const fresh = list.filter((c) => !known.has(String(c.id)));
          id = latestConversation(fresh)?.id ?? null;
          if (id === null) return false;
        }
        const msgs = await api.listMessages(id);
        const stored = msgs.some(
          (m) => m.role === 'user' && m.content === text && (seen === null || (typeof m.id === 'number' && m.id > seen)),
        );
        if (!stored) return false;
        setItems(messagesToItems(msgs));
        setConversationId(id);
        seenId.current = lastId(msgs);
        tasksChanged.current();
        return true;
      } catch {
        return false;
      }
    },
    [api],
  );

  const mounted = useRef(true);
  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  /**
   * A message sent before this tab was reloaded, whose answer never arrived: wait (polling the
   * conversation) until the server stores it or the chat time budget is over, then show the
   * stored turn, or "Not sent" with a retry that reuses the message's idempotency key.
   */
  const resume = useCallback(
    async (p: PendingSend) => {
      const key = nextKey('u');
      setItems((its) => [
        ...its,
        { key, role: 'user', text: p.text, toolCalls: [], status: 'pending', idempotencyKey: p.key },
      ]);
      setSending(true);
      const deadline = p.sentAt + CHAT_CLIENT_TIMEOUT_MS;
      const known = new Set(p.known);
      let delay = 500;
      try {
        for (;;) {
          if (await landed(p.text, p.conversationId, p.seenId, known)) return;
          if (!mounted.current) return;
          const wait = Math.min(delay, deadline - Date.now());
          delay = Math.min(delay * 2, 3000);
          if (wait <= 0) break;
          await new Promise((r) => setTimeout(r, wait));
          if (!mounted.current) return;
        }
        setItems((its) => its.map((it) => (it.key === key ? { ...it, status: 'failed' } : it)));
      } finally {
        if (mounted.current) {
          clearPending();
          setSending(false);
        }
      }
    },
    [landed],
  );

  const loadHistory = useCallback(async () => {
    setHistory('loading');
    try {
      const list = await api.listConversations();
      setConversations(list);
      const latest = latestConversation(list);
      const pending = loadPending();
      const open = pending?.conversationId ?? latest?.id ?? null;
      if (open !== null && (pending?.conversationId != null || latest)) {
        await showConversation(open);
      } else {
        setItems([]);
        setConversationId(null);
        seenId.current = null;
      }
      setHistory('ready');
      if (pending) void resume(pending);
    } catch (err) {
      if (isApiError(err, 'session_expired')) return;
      setHistoryError(isApiError(err, 'network') ? 'Cannot reach the server to load the conversation.' : String((err as Error).message));
      setHistory('error');
    }
  }, [api, showConversation, resume]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  // Progress while a reply is slow: seconds waited, so a long wait never looks like a hang.
  useEffect(() => {
    if (!sending) return;
    const started = Date.now();
    setElapsed(0);
    const t = setInterval(() => setElapsed(Math.floor((Date.now() - started) / 1000)), 1000);
    return () => clearInterval(t);
  }, [sending]);

  useEffect(() => {
    if (!hidden) inputRef.current?.focus();
  }, [hidden]);

  // Keep the newest message in view: on new messages, and when the list is resized (a phone
  // rotated, a pane shown) while the reader was at the bottom.
  const atBottom = useRef(true);
  useLayoutEffect(() => {
    const el = listRef.current;
    if (el) el.scrollTop = el.scrollHeight;
    atBottom.current = true;
  }, [items, sending, hidden]);
  useEffect(() => {
    const el = listRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const onScroll = () => {
      atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
    };
    const ro = new ResizeObserver(() => {
      if (atBottom.current) el.scrollTop = el.scrollHeight;
    });
    el.addEventListener('scroll', onScroll, { passive: true });
    ro.observe(el);
    return () => {
      el.removeEventListener('scroll', onScroll);
      ro.disconnect();
    };
  }, []);

  const send = useCallback(
    async (text: string, retry?: ChatItem) => {
      const key = retry?.key ?? nextKey('u');
      // One idempotency key per message, reused by its retries: a retry never adds twice.
      const idem = retry?.idempotencyKey ?? newIdempotencyKey();
      setItems((its) =>
        retry
          ? its.map((it) => (it.key === key ? { ...it, status: 'pending' } : it))
          : [...its, { key, role: 'user', text, toolCalls: [], status: 'pending', idempotencyKey: idem }],
      );
      setSending(true);
      const conv = conversationId;
      const seen = seenId.current;
      const known = new Set(conversations.map((c) => String(c.id)));
      // Kept until the answer arrives, so a reload can find out what became of the message.
      savePending({ text, key: idem, conversationId: conv, seenId: seen, known: [...known], sentAt: Date.now() });
      try {
        const r = await api.chat(text, conv, { idempotencyKey: idem, seenMessageId: seen });
        setConversationId(r.conversation_id ?? conv);
        if (typeof r.message_id === 'number') seenId.current = r.message_id;
        if (conv === null) {
          setConversations((cs) => [
            { id: r.conversation_id, title: text.slice(0, 80), updated_at: new Date().toISOString() },
            ...cs,
          ]);
        }
        setItems((its) => [
          ...its.map((it) => (it.key === key ? { ...it, status: undefined } : it)),
          { key: nextKey('a'), role: 'assistant', text: r.reply, toolCalls: r.tool_calls },
        ]);
        if (r.tool_calls.length > 0) onTasksChanged();
      } catch (err) {
        if (isApiError(err, 'session_expired')) return;
        const unknown = isApiError(err, 'network') || isApiError(err, 'server');
        if (!(unknown && (await landed(text, conv, seen, known)))) {
          setItems((its) => its.map((it) => (it.key === key ? { ...it, status: 'failed' } : it)));
        }
      } finally {
        clearPending();
        setSending(false);
        inputRef.current?.focus();
      }
    },
    [api, conversationId, conversations, onTasksChanged, landed],
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!text || sending || history === 'loading' || tooLong(text, MAX_MESSAGE_CHARS)) return;
    setDraft('');
    void send(text);
  }

  function newConversation() {
    setItems([]);
    setConversationId(null);
    seenId.current = null;
    inputRef.current?.focus();
  }

  async function pickConversation(value: string) {
    if (value === '') {
      newConversation();
      return;
    }
    const c = conversations.find((x) => String(x.id) === value);
    if (!c) return;
    setHistory('loading');
    try {
      await showConversation(c.id);
      setHistory('ready');
    } catch (err) {
      if (isApiError(err, 'session_expired')) return;
      setHistoryError('Cannot load that conversation.');
      setHistory('error');
    }
  }

  const messageTooLong = tooLong(draft.trim(), MAX_MESSAGE_CHARS);
  const suggestions = suggestionsFor(tasks);

  return (
    <section className={`pane pane--chat${hidden ? ' pane--hidden' : ''}`} aria-labelledby={`${id}-h`}>
      <div className="pane__head">
        <h2 id={`${id}-h`}>Chat</h2>
        <div className="chat__convs">
          <label htmlFor={`${id}-conv`} className="visually-hidden">
            Conversations
          </label>
          <select
            id={`${id}-conv`}
            className="chat__select"
            value={conversationId === null ? '' : String(conversationId)}
            disabled={sending || history === 'loading'}
            onChange={(e) => void pickConversation(e.target.value)}
          >
            <option value="">New conversation</option>
            {conversations.map((c) => (
              <option key={String(c.id)} value={String(c.id)}>
                {convLabel(c)}
              </option>
            ))}
          </select>
          <button type="button" className="btn btn--small btn--ghost" onClick={newConversation} disabled={sending}>
            New chat
          </button>
        </div>
      </div>

      <div className="pane__body chat__body">
        {history === 'loading' && (
          <p className="muted" role="status">
            Loading conversation…
          </p>
        )}
        {history === 'error' && <ErrorState message={historyError} onRetry={() => void loadHistory()} />}
        {history === 'ready' && items.length === 0 && (
          <div className="chat__empty">
            <p>Tell me what to do with your list. Try:</p>
            <ul className="suggestions">
              {suggestions.map((s) => (
                <li key={s}>
                  <button
                    type="button"
                    className="chip"
                    onClick={() => {
                      setDraft(s);
                      inputRef.current?.focus();
                    }}
                  >
                    {s}
                  </button>
                </li>
              ))}
            </ul>
          </div>
        )}
        {/* A list (its items stay list items for screen readers), announced as it grows, and
            focusable so it can be scrolled from the keyboard. */}
        <ol ref={listRef} className="messages" aria-live="polite" aria-label="Conversation" tabIndex={0}>
          {items.map((it) => (
            <ChatMessage
              key={it.key}
              item={it}
              onRetry={it.status === 'failed' && !sending ? () => void send(it.text, it) : undefined}
            />
          ))}
          {sending && (
            <li className="msg msg--assistant msg--typing" aria-label="Assistant is typing">
              <span className="dots" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
              {elapsed >= 5 && <span className="msg__wait">Still working… {elapsed} s</span>}
            </li>
          )}
        </ol>
      </div>

      <form className="composer" onSubmit={submit}>
        <label htmlFor={`${id}-input`} className="visually-hidden">
          Message
        </label>
        <input
          ref={inputRef}
          id={`${id}-input`}
          className="composer__input"
          placeholder="Message the assistant…"
          autoComplete="off"
          value={draft}
          aria-invalid={messageTooLong}
          aria-describedby={`${id}-count`}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button
          className="btn btn--primary"
          type="submit"
          disabled={sending || history === 'loading' || !draft.trim() || messageTooLong}
        >
          {sending ? 'Sending…' : 'Send'}
        </button>
        <CharCounter id={`${id}-count`} value={draft.trim()} max={MAX_MESSAGE_CHARS} />
      </form>
    </section>
  );
}
