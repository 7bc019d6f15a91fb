// Turns tool calls and stored messages into what the chat pane shows. Plain strings only:
// everything is rendered as React text nodes, never as HTML.
import { parseMaybeJson, type Message, type ToolCall } from './api';

export interface ChatItem {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  toolCalls: ToolCall[];
  status?: 'pending' | 'failed';
  /** A user message's idempotency key, reused when it is sent again. */
  idempotencyKey?: string;
}

function scalar(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function formatArgs(args: unknown): string {
  if (args && typeof args === 'object' && !Array.isArray(args)) {
    return Object.entries(args as Record<string, unknown>)
      .filter(([, v]) => v !== undefined && v !== null && v !== '')
      .map(([k, v]) => `${k}: ${scalar(v)}`)
      .join(', ');
  }
  return args === undefined || args === null ? '' : scalar(args);
}

function taskSummary(o: Record<string, unknown>): string | null {
  const num = o.number ?? o.id;
  if ('title' in o && num !== undefined) return `#${String(num)} ${String(o.title)}${o.completed ? ' ✓' : ''}`;
  return null;
}

export function formatResult(result: unknown): string {
  if (result === null || result === undefined) return '';
  if (typeof result === 'string') return result;
  if (Array.isArray(result)) {
    if (result.length === 0) return 'no tasks';
    const first = result[0];
    if (first && typeof first === 'object' && 'title' in first) return `${result.length} task${result.length === 1 ? '' : 's'}`;
    return JSON.stringify(result);
  }
  if (typeof result === 'object') {
    const o = result as Record<string, unknown>;
    if (typeof o.error === 'string') return `error: ${o.error}`;
    const t = taskSummary(o);
    if (t) return t;
    const inner = o.task ?? o.tasks;
    if (inner !== undefined) return formatResult(inner);
    if (typeof o.message === 'string') return o.message;
    return JSON.stringify(o);
  }
  return String(result);
}

/** One compact line, e.g. `add_task(title: "buy milk") → #7 buy milk`. */
export function toolCallLine(tc: ToolCall): string {
  const res = formatResult(tc.result);
  return `${tc.name}(${formatArgs(tc.arguments)})${res ? ` → ${res}` : ''}`;
}

/**
 * Stored history -> chat items, so a reloaded chat looks like the live one. The backend stores
 * OpenAI-style turns: an assistant message that requests tools (`tool_calls` with ids, often no
 * text), one `tool` message per call (`tool_call_id`, result in `content`), then the assistant's
 * answer. Calls and results are paired by id and shown with the answer that follows them.
 */
export function messagesToItems(messages: Message[]): ChatItem[] {
  const items: ChatItem[] = [];
  let pending: ToolCall[] = [];
  const flush = (key: string, text: string) => {
    items.push({ key, role: 'assistant', text, toolCalls: pending });
    pending = [];
  };
  for (const m of messages) {
    const key = `h-${String(m.id)}`;
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      const result = parseMaybeJson(m.content);
      const call =
        pending.find((c) => m.tool_call_id !== undefined && c.id === m.tool_call_id) ??
        pending.find((c) => c.result === null || c.result === undefined);
      if (call) call.result = result;
      else pending.push({ name: 'tool', arguments: null, result });
      continue;
    }
    if (m.role === 'assistant') {
      pending.push(...m.tool_calls.map((c) => ({ ...c })));
      if (m.content) flush(key, m.content);
      continue;
    }
    if (pending.length) flush(`${key}-tools`, ''); // tool calls that never got an answer
    items.push({ key, role: 'user', text: m.content, toolCalls: [] });
  }
  if (pending.length) flush('h-tools-tail', '');
  return items;
}
