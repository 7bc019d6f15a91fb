import { useEffect, useId, useRef, useState, type FormEvent, type MouseEvent } from 'react';
import { MAX_TITLE_CHARS, type TaskFilter } from '../api';
import { CharCounter, tooLong } from './CharCounter';
import type { TasksState } from '../useTasks';
import { ErrorState } from './ErrorState';
import { TaskItem } from './TaskItem';

const FILTERS: { value: TaskFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'pending', label: 'Pending' },
  { value: 'completed', label: 'Completed' },
];

const EMPTY: Record<TaskFilter, string> = {
  all: 'No tasks yet. Add one above, or tell the chat “remind me to buy milk”.',
  pending: 'Nothing pending. Nice work!',
  completed: 'No completed tasks yet.',
};

interface Props {
  state: TasksState;
  hidden?: boolean;
}

/** How long the Undo toast stays after a delete. */
export const UNDO_MS = 8000;
/** Clicks on Delete this soon after a delete are the second half of a double click. */
const DOUBLE_CLICK_MS = 700;

export function TaskPane({ state, hidden }: Props) {
  const [title, setTitle] = useState('');
  const [adding, setAdding] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const lastDelete = useRef({ t: 0, x: 0, y: 0 });
  const id = useId();
  const titleTooLong = tooLong(title.trim(), MAX_TITLE_CHARS);

  const { undoable, dismissUndo } = state;
  useEffect(() => {
    if (!undoable) return;
    const t = setTimeout(dismissUndo, UNDO_MS);
    return () => clearTimeout(t);
  }, [undoable, dismissUndo]);

  async function add(e: FormEvent) {
    e.preventDefault();
    const t = title.trim();
    if (!t || adding || titleTooLong) return;
    setAdding(true);
    const ok = await state.add(t);
    setAdding(false);
    if (ok) setTitle('');
  }

  function remove(taskId: number, e: MouseEvent) {
    // The row below moves up under the pointer: the second click of a double click (or a
    // second fast click at the same spot) must not delete it too. Keyboard presses (detail 0)
    // are always deliberate.
    const now = Date.now();
    const last = lastDelete.current;
    const samePlace = Math.abs(e.clientX - last.x) < 8 && Math.abs(e.clientY - last.y) < 8;
    if (e.detail > 1 || (e.detail === 1 && samePlace && now - last.t < DOUBLE_CLICK_MS)) return;
    lastDelete.current = { t: now, x: e.clientX, y: e.clientY };
    headingRef.current?.focus(); // the focused Delete button is about to disappear
    void state.remove(taskId);
  }

  return (
    <section className={`pane pane--tasks${hidden ? ' pane--hidden' : ''}`} aria-labelledby={`${id}-h`}>
      <div className="pane__head">
        <h2 id={`${id}-h`} ref={headingRef} tabIndex={-1}>
          Tasks
        </h2>
        <div className="segmented" role="group" aria-label="Show tasks">
          {FILTERS.map((f) => (
            <button
              key={f.value}
              type="button"
              className="segmented__btn"
              aria-pressed={state.filter === f.value}
              onClick={() => state.setFilter(f.value)}
            >
              {f.label}
            </button>
          ))}
        </div>
      </div>

      <form className="add-task" onSubmit={add}>
        <label htmlFor={`${id}-new`} className="visually-hidden">
          New task
        </label>
        <input
          id={`${id}-new`}
          className="add-task__input"
          placeholder="Add a task…"
          value={title}
          aria-invalid={titleTooLong}
          aria-describedby={`${id}-count`}
          onChange={(e) => setTitle(e.target.value)}
        />
        <button className="btn btn--primary" type="submit" disabled={adding || !title.trim() || titleTooLong}>
          Add
        </button>
        <CharCounter id={`${id}-count`} value={title.trim()} max={MAX_TITLE_CHARS} />
      </form>

      {state.actionError && (
        <div className="inline-alert" role="alert">
          <span>{state.actionError}</span>
          <button type="button" className="link" onClick={state.dismissActionError}>
            Dismiss
          </button>
        </div>
      )}

      <div className="pane__body" aria-busy={state.status === 'loading'}>
        {state.status === 'loading' && (
          <p className="muted" role="status">
            Loading tasks…
          </p>
        )}
        {state.status === 'error' && (
          <ErrorState message={state.loadError ?? 'Cannot reach the server.'} onRetry={() => void state.reload()} />
        )}
        {state.status === 'ready' &&
          (state.tasks.length === 0 ? (
            <p className="empty">{EMPTY[state.filter]}</p>
          ) : (
            <ul className="task-list" aria-label={`${FILTERS.find((f) => f.value === state.filter)?.label} tasks`}>
              {state.tasks.map((t) => (
                <TaskItem
                  key={t.id}
                  task={t}
                  error={state.taskErrors[t.id]}
                  onToggle={(tid, c) => void state.setCompleted(tid, c)}
                  onRename={state.rename}
                  onDelete={remove}
                />
              ))}
            </ul>
          ))}
      </div>

      <div className="toast-region" role="status" aria-live="polite">
        {undoable && (
          <div className="toast">
            <span>
              Deleted task {undoable.number}: {undoable.title}
            </span>
            <button type="button" className="link" onClick={() => void state.undoRemove()}>
              Undo
            </button>
          </div>
        )}
      </div>
    </section>
  );
}
