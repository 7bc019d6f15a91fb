// Turns tool calls and stored messages into what the chat pane shows. Plain strings only:
// everything is rendered as React text nodes, never as HTML.
import type { Message, ToolCall } from './api';

export interface ChatItem {
  key: string;
  role: 'user' | 'assistant';
  text: string;
  toolCalls: ToolCall[];
  status?: 'pending' | 'failed';
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
  if ('title' in o && 'id' in o) return `#${String(o.id)} ${String(o.title)}${o.completed ? ' ✓' : ''}`;
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
 * Stored history -> chat items. Tool-role messages (if the backend stores them) are folded
 * into the assistant reply that follows them, so a reloaded chat looks like the live one.
 */
export function messagesToItems(messages: Message[]): ChatItem[] {
  const items: ChatItem[] = [];
  let pendingTools: ToolCall[] = [];
  messages.forEach((m, i) => {
    if (m.role === 'system') return;
    if (m.role === 'tool') {
      if (m.tool_calls.length) pendingTools.push(...m.tool_calls);
      else if (m.content) pendingTools.push({ name: 'tool', arguments: null, result: m.content });
      return;
    }
    if (m.role === 'assistant') {
      const calls = [...pendingTools, ...m.tool_calls];
      pendingTools = [];
      // An assistant turn that only requested tools (no text yet) merges into the next one.
      if (!m.content && calls.length && i < messages.length - 1) {
        pendingTools = calls;
        return;
      }
      items.push({ key: `h-${String(m.id)}`, role: 'assistant', text: m.content, toolCalls: calls });
      return;
    }
    items.push({ key: `h-${String(m.id)}`, role: 'user', text: m.content, toolCalls: [] });
  });
  if (pendingTools.length) items.push({ key: 'h-tools-tail', role: 'assistant', text: '', toolCalls: pendingTools });
  return items;
}
