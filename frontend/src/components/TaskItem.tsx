import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { Task } from '../api';

interface Props {
  task: Task;
  onToggle: (id: number, completed: boolean) => void;
  onRename: (id: number, title: string) => Promise<boolean>;
  onDelete: (id: number) => void;
}

export function TaskItem({ task, onToggle, onRename, onDelete }: Props) {
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
    <li className={`task${task.completed ? ' task--done' : ''}`} data-task-id={task.id}>
      <input
        id={checkboxId}
        className="task__check"
        type="checkbox"
        checked={task.completed}
        onChange={(e) => onToggle(task.id, e.target.checked)}
        aria-label={`${task.completed ? 'Completed' : 'Complete'}: ${task.title}`}
      />
      {editing ? (
        <div className="task__edit">
          <label className="visually-hidden" htmlFor={`${id}-title`}>
            Title of task {task.id}
          </label>
          <input
            ref={inputRef}
            id={`${id}-title`}
            className="task__input"
            value={draft}
            maxLength={500}
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
        </div>
      ) : (
        <>
          <div className="task__body">
            <span className="task__title">{task.title}</span>
            {task.description && <span className="task__desc">{task.description}</span>}
          </div>
          <span className="task__id" aria-hidden="true">
            #{task.id}
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
              onClick={() => onDelete(task.id)}
              aria-label={`Delete: ${task.title}`}
            >
              Delete
            </button>
          </div>
        </>
      )}
    </li>
  );
}
