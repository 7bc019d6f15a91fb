import { useEffect, useId, useRef, useState, type KeyboardEvent, type MouseEvent } from 'react';
import { MAX_TITLE_CHARS, type Task } from '../api';
import { CharCounter, tooLong } from './CharCounter';

interface Props {
  task: Task;
  /** Why the last change to this task failed, shown on the task. */
  error?: string;
  onToggle: (id: number, completed: boolean) => void;
  onRename: (id: number, title: string) => Promise<boolean>;
  onDelete: (id: number, e: MouseEvent) => void;
}

export function TaskItem({ task, error, onToggle, onRename, onDelete }: Props) {
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(task.title);
  const [saving, setSaving] = useState(false);
  const inputRef = useRef<HTMLInputElement>(null);
  const editBtnRef = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  const id = useId();

  useEffect(() => {
    if (editing) {
      inputRef.current?.focus();
      inputRef.current?.select();
    } else if (wasEditing.current) {
      editBtnRef.current?.focus();
    }
    wasEditing.current = editing;
  }, [editing]);

  function startEdit() {
    setDraft(task.title);
    setEditing(true);
  }

  async function save() {
    const title = draft.trim();
    if (tooLong(title, MAX_TITLE_CHARS)) return;
    if (!title || title === task.title) {
      setEditing(false);
      return;
    }
    setSaving(true);
    const ok = await onRename(task.id, title);
    setSaving(false);
    if (ok) setEditing(false);
  }

  function onKeyDown(e: KeyboardEvent<HTMLInputElement>) {
    if (e.key === 'Enter') {
      e.preventDefault();
      void save();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      setEditing(false);
    }
  }

  const checkboxId = `${id}-done`;
  return (
    <li className={`task${task.completed ? ' task--done' : ''}`} data-task-id={task.id} data-task-number={task.number}>
      <input
        id={checkboxId}
        className="task__check"
        type="checkbox"
        checked={task.completed}
        onChange={(e) => onToggle(task.id, e.target.checked)}
        aria-label={`${task.completed ? 'Completed' : 'Complete'} task ${task.number}: ${task.title}`}
      />
      {editing ? (
        <div className="task__edit">
          <label className="visually-hidden" htmlFor={`${id}-title`}>
            Title of task {task.number}
          </label>
          <input
            ref={inputRef}
            id={`${id}-title`}
            className="task__input"
            value={draft}
            aria-invalid={tooLong(draft.trim(), MAX_TITLE_CHARS)}
            aria-describedby={`${id}-count`}
            disabled={saving}
            onChange={(e) => setDraft(e.target.value)}
            onKeyDown={onKeyDown}
          />
          <button type="button" className="btn btn--small btn--primary" onClick={() => void save()} disabled={saving}>
            Save
          </button>
          <button type="button" className="btn btn--small" onClick={() => setEditing(false)} disabled={saving}>
            Cancel
          </button>
          <CharCounter id={`${id}-count`} value={draft.trim()} max={MAX_TITLE_CHARS} />
        </div>
      ) : (
        <>
          <div className="task__body">
            <span className="task__title">{task.title}</span>
            {task.description && <span className="task__desc">{task.description}</span>}
          </div>
          <span className="task__id">
            <span className="visually-hidden">Task number </span>#{task.number}
          </span>
          <div className="task__actions">
            <button
              ref={editBtnRef}
              type="button"
              className="btn btn--small btn--ghost"
              onClick={startEdit}
              aria-label={`Edit: ${task.title}`}
            >
              Edit
            </button>
            <button
              type="button"
              className="btn btn--small btn--ghost btn--danger"
              onClick={(e) => onDelete(task.id, e)}
              aria-label={`Delete: ${task.title}`}
            >
              Delete
            </button>
          </div>
        </>
      )}
      {error && (
        <p className="task__error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
