import { describe, expect, it } from 'vitest';
import { formatArgs, formatResult, messagesToItems, toolCallLine } from './chatFormat';
import type { Message } from './api';

describe('tool call lines', () => {
  it('formats arguments and results compactly', () => {
    expect(formatArgs({ title: 'buy milk', description: '' })).toBe('title: "buy milk"');
    expect(formatArgs({ task_id: 3 })).toBe('task_id: 3');
    expect(formatResult({ id: 7, title: 'buy milk', completed: false })).toBe('#7 buy milk');
    expect(formatResult({ id: 7, title: 'x', completed: true })).toBe('#7 x ✓');
    expect(formatResult([{ id: 1, title: 'a' }, { id: 2, title: 'b' }])).toBe('2 tasks');
    expect(formatResult([])).toBe('no tasks');
    expect(formatResult({ error: 'task not found' })).toBe('error: task not found');
    expect(formatResult({ task: { id: 2, title: 'b' } })).toBe('#2 b');
    expect(toolCallLine({ name: 'add_task', arguments: { title: 'milk' }, result: { id: 1, title: 'milk' } })).toBe(
      'add_task(title: "milk") → #1 milk',
    );
    expect(toolCallLine({ name: 'list_tasks', arguments: {}, result: null })).toBe('list_tasks()');
  });
});

describe('messagesToItems', () => {
  const m = (id: number, role: Message['role'], content: string, tool_calls: Message['tool_calls'] = []): Message => ({
    id,
    role,
    content,
    tool_calls,
  });

  it('keeps user and assistant turns in order, with their tool calls', () => {
    const items = messagesToItems([
      m(1, 'user', 'add milk'),
      m(2, 'assistant', 'Added task 1: milk', [{ name: 'add_task', arguments: { title: 'milk' }, result: null }]),
    ]);
    expect(items.map((i) => [i.role, i.text, i.toolCalls.length])).toEqual([
      ['user', 'add milk', 0],
      ['assistant', 'Added task 1: milk', 1],
    ]);
  });

  it('folds tool messages and tool-only assistant turns into the next reply', () => {
    const items = messagesToItems([
      m(1, 'user', 'add milk'),
      m(2, 'assistant', '', [{ name: 'add_task', arguments: { title: 'milk' }, result: null }]),
      m(3, 'tool', '{"id":1}'),
      m(4, 'assistant', 'Done.'),
      m(5, 'system', 'ignored'),
    ]);
    expect(items).toHaveLength(2);
    expect(items[1].text).toBe('Done.');
    expect(items[1].toolCalls.map((t) => t.name)).toEqual(['add_task', 'tool']);
  });
});
