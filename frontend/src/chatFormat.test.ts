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

  it('pairs stored tool calls with their tool results by id', () => {
    const items = messagesToItems([
      m(1, 'user', 'add milk and list'),
      m(2, 'assistant', '', [
        { id: 'c1', name: 'add_task', arguments: { title: 'milk' }, result: null },
        { id: 'c2', name: 'list_tasks', arguments: {}, result: null },
      ]),
      { ...m(3, 'tool', '[{"id":1,"title":"milk"}]'), tool_call_id: 'c2' },
      { ...m(4, 'tool', '{"id":1,"title":"milk","completed":false}'), tool_call_id: 'c1' },
      m(5, 'assistant', 'Added task 1: milk'),
      m(6, 'system', 'ignored'),
      m(7, 'user', 'next'),
    ]);
    expect(items.map((i) => [i.role, i.text])).toEqual([
      ['user', 'add milk and list'],
      ['assistant', 'Added task 1: milk'],
      ['user', 'next'],
    ]);
    expect(items[1].toolCalls.map(toolCallLine)).toEqual([
      'add_task(title: "milk") → #1 milk',
      'list_tasks() → 1 task',
    ]);
  });

  it('keeps unpaired tool results and unanswered calls visible', () => {
    const items = messagesToItems([m(1, 'user', 'x'), m(2, 'tool', 'done'), m(3, 'user', 'y')]);
    expect(items.map((i) => i.role)).toEqual(['user', 'assistant', 'user']);
    expect(toolCallLine(items[1].toolCalls[0])).toBe('tool() → done');
  });
});
