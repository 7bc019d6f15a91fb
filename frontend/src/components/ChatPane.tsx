import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { isApiError, latestConversation, newIdempotencyKey, type Api, type ConversationId } from '../api';
import { messagesToItems, type ChatItem } from '../chatFormat';
import { ChatMessage } from './ChatMessage';
import { ErrorState } from './ErrorState';

interface Props {
  api: Api;
  /** Called after a reply whose tool calls may have changed the tasks. */
  onTasksChanged: () => void;
  hidden?: boolean;
}

type HistoryStatus = 'loading' | 'ready' | 'error';

const SUGGESTIONS = ['Remind me to buy milk', "What's left?", 'Mark 1 as done'];

let keySeq = 0;
const nextKey = (p: string) => `${p}-${++keySeq}`;

export function ChatPane({ api, onTasksChanged, hidden }: Props) {
  const [items, setItems] = useState<ChatItem[]>([]);
  const [conversationId, setConversationId] = useState<ConversationId | null>(null);
  const [history, setHistory] = useState<HistoryStatus>('loading');
  const [historyError, setHistoryError] = useState('');
  const [draft, setDraft] = useState('');
  const [sending, setSending] = useState(false);
  const listRef = useRef<HTMLOListElement>(null);
  const inputRef = useRef<HTMLInputElement>(null);
  const id = useId();

  const loadHistory = useCallback(async () => {
    setHistory('loading');
    try {
      const latest = latestConversation(await api.listConversations());
      if (latest) {
        const msgs = await api.listMessages(latest.id);
        setItems(messagesToItems(msgs));
        setConversationId(latest.id);
      } else {
        setItems([]);
        setConversationId(null);
      }
      setHistory('ready');
    } catch (err) {
      if (isApiError(err, 'session_expired')) return;
      setHistoryError(isApiError(err, 'network') ? 'Cannot reach the server to load the conversation.' : String((err as Error).message));
      setHistory('error');
    }
  }, [api]);

  useEffect(() => {
    void loadHistory();
  }, [loadHistory]);

  useEffect(() => {
    if (!hidden) inputRef.current?.focus();
  }, [hidden]);

  // Keep the newest message in view: on new messages, and when the list is resized (a phone
  // rotated, a pane shown) while the reader was at the bottom.
  const atBottom = useRef(true);
  const actionKeys = useRef(new Map<string, string>()); // message key → its Idempotency-Key
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
    async (text: string, retryKey?: string) => {
      const key = retryKey ?? nextKey('u');
      // One idempotency key per message: retrying a failed message can never apply it twice.
      const idempotencyKey = actionKeys.current.get(key) ?? newIdempotencyKey();
      actionKeys.current.set(key, idempotencyKey);
      setItems((its) =>
        retryKey
          ? its.map((it) => (it.key === retryKey ? { ...it, status: 'pending' } : it))
          : [...its, { key, role: 'user', text, toolCalls: [], status: 'pending' }],
      );
      setSending(true);
      try {
        const r = await api.chat(text, conversationId, { idempotencyKey });
        setConversationId(r.conversation_id ?? conversationId);
        setItems((its) => [
          ...its.map((it) => (it.key === key ? { ...it, status: undefined } : it)),
          { key: nextKey('a'), role: 'assistant', text: r.reply, toolCalls: r.tool_calls },
        ]);
        if (r.tool_calls.length > 0) onTasksChanged();
      } catch (err) {
        if (isApiError(err, 'session_expired')) return;
        setItems((its) => its.map((it) => (it.key === key ? { ...it, status: 'failed' } : it)));
      } finally {
        setSending(false);
        inputRef.current?.focus();
      }
    },
    [api, conversationId, onTasksChanged],
  );

  function submit(e: FormEvent) {
    e.preventDefault();
    const text = draft.trim();
    if (!text || sending || history === 'loading') return;
    setDraft('');
    void send(text);
  }

  function newConversation() {
    setItems([]);
    setConversationId(null);
    inputRef.current?.focus();
  }

  return (
    <section className={`pane pane--chat${hidden ? ' pane--hidden' : ''}`} aria-labelledby={`${id}-h`}>
      <div className="pane__head">
        <h2 id={`${id}-h`}>Chat</h2>
        <button type="button" className="btn btn--small btn--ghost" onClick={newConversation} disabled={sending}>
          New chat
        </button>
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
              {SUGGESTIONS.map((s) => (
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
        <ol ref={listRef} className="messages" role="log" aria-live="polite" aria-label="Conversation">
          {items.map((it) => (
            <ChatMessage
              key={it.key}
              item={it}
              onRetry={it.status === 'failed' && !sending ? () => void send(it.text, it.key) : undefined}
            />
          ))}
          {sending && (
            <li className="msg msg--assistant msg--typing" aria-label="Assistant is typing">
              <span className="dots" aria-hidden="true">
                <span />
                <span />
                <span />
              </span>
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
          maxLength={4000}
          onChange={(e) => setDraft(e.target.value)}
        />
        <button className="btn btn--primary" type="submit" disabled={sending || history === 'loading' || !draft.trim()}>
          {sending ? 'Sending…' : 'Send'}
        </button>
      </form>
    </section>
  );
}
