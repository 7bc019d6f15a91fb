import { useCallback, useEffect, useRef, useState } from 'react';
import { isApiError, newIdempotencyKey, type Api, type Task, type TaskFilter, type TaskPatch } from './api';

export type LoadStatus = 'loading' | 'ready' | 'error';

export interface TasksState {
  tasks: Task[];
  filter: TaskFilter;
  status: LoadStatus;
  /** Message for a failed first load (status 'error') — there is no list to show. */
  loadError: string | null;
  /** Message for a failed change or refresh — the list is still shown. */
  actionError: string | null;
  /** Failures of a change to one task, shown on that task. */
  taskErrors: Record<number, string>;
  /** The task just deleted, while it can still be brought back from the Undo toast. */
  undoable: Task | null;
  setFilter: (f: TaskFilter) => void;
  reload: () => Promise<void>;
  add: (title: string) => Promise<boolean>;
  setCompleted: (id: number, completed: boolean) => Promise<void>;
  rename: (id: number, title: string) => Promise<boolean>;
  remove: (id: number) => Promise<void>;
  undoRemove: () => Promise<void>;
  dismissUndo: () => void;
  dismissActionError: () => void;
}

export function matchesFilter(t: Task, f: TaskFilter): boolean {
  return f === 'all' || (f === 'completed' ? t.completed : !t.completed);
}

function messageOf(err: unknown): string {
  if (isApiError(err, 'network')) return 'Cannot reach the server.';
  if (isApiError(err)) return err.message;
  return 'Something went wrong.';
}

export function useTasks(api: Api, initialFilter: TaskFilter = 'all'): TasksState {
  const [tasks, setTasks] = useState<Task[]>([]);
  const [filter, setFilterState] = useState<TaskFilter>(initialFilter);
  const [status, setStatus] = useState<LoadStatus>('loading');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [taskErrors, setTaskErrors] = useState<Record<number, string>>({});
  const [undoable, setUndoable] = useState<Task | null>(null);
  const seq = useRef(0);
  const filterRef = useRef(filter);
  filterRef.current = filter;
  const statusRef = useRef(status);
  statusRef.current = status;
  // Per-task queues: a task's changes reach the server one after another, in click order, so
  // the final state is the last click.
  const queues = useRef(new Map<number, Promise<unknown>>());
  // The add form's idempotency key: one per title typed, reused when Add is retried.
  const addKey = useRef<{ title: string; key: string } | null>(null);

  const load = useCallback(
    async (f: TaskFilter, showSpinner: boolean) => {
      const mine = ++seq.current;
      // A retry after a failed first load shows the spinner again; a background refresh does not.
      setStatus((s) => (showSpinner || s === 'error' ? 'loading' : s));
      try {
        const list = await api.listTasks(f);
        if (mine !== seq.current) return; // a newer load won
        // While a task's changes are still queued, its optimistic state stays on screen.
        setTasks((old) =>
          list.map((t) => (queues.current.has(t.id) ? (old.find((o) => o.id === t.id) ?? t) : t)),
        );
        setStatus('ready');
        setLoadError(null);
      } catch (err) {
        if (mine !== seq.current || isApiError(err, 'session_expired')) return;
        if (statusRef.current === 'ready' && !showSpinner) {
          // A failed background refresh keeps the list; it says so above it.
          setActionError(`Could not refresh the list: ${messageOf(err)}`);
          return;
        }
        setLoadError(messageOf(err));
        setStatus('error');
      }
    },
    [api],
  );

  // Only the first load shows the spinner. After a filter change the list on screen is already
  // filtered here, so it stays while the server's list for that filter comes.
  useEffect(() => {
    void load(filter, statusRef.current !== 'ready');
  }, [load, filter]);

  const reload = useCallback(() => load(filterRef.current, false), [load]);

  // A tab left open shows what other tabs and the chat did as soon as it is looked at again.
  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === 'visible') void reload();
    };
    window.addEventListener('focus', onVisible);
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      window.removeEventListener('focus', onVisible);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [reload]);

  const setTaskError = useCallback((id: number, msg: string | null) => {
    setTaskErrors((e) => {
      if (msg === null) {
        if (!(id in e)) return e;
        const rest = { ...e };
        delete rest[id];
        return rest;
      }
      return { ...e, [id]: msg };
    });
  }, []);

  /** Queues op behind the task's earlier changes; refreshes the list once the queue drains. */
  const enqueue = useCallback(
    (id: number, what: string, op: () => Promise<unknown>): Promise<boolean> => {
      const prev = queues.current.get(id) ?? Promise.resolve();
      const run = prev.then(async () => {
        try {
          await op();
          setTaskError(id, null);
          return true;
        } catch (err) {
          if (!isApiError(err, 'session_expired')) setTaskError(id, `Could not ${what}: ${messageOf(err)}`);
          return false;
        }
      });
      queues.current.set(id, run);
      return run.then(async (ok) => {
        if (queues.current.get(id) === run) {
          queues.current.delete(id);
          await reload();
        }
        return ok;
      });
    },
    [reload, setTaskError],
  );

  const add = useCallback(
    async (title: string) => {
      if (addKey.current?.title !== title) addKey.current = { title, key: newIdempotencyKey() };
      try {
        await api.createTask(title, undefined, addKey.current.key);
        addKey.current = null;
        setActionError(null);
        await reload();
        return true;
      } catch (err) {
        if (!isApiError(err, 'session_expired')) setActionError(`Could not add the task: ${messageOf(err)}`);
        return false;
      }
    },
    [api, reload],
  );

  const setCompleted = useCallback(
    async (id: number, completed: boolean) => {
      // Optimistic: tick at once; the requests follow in click order.
      setTasks((ts) => ts.map((t) => (t.id === id ? { ...t, completed } : t)));
      await enqueue(id, 'update the task', () => api.updateTask(id, { completed } satisfies TaskPatch));
    },
    [api, enqueue],
  );

  const rename = useCallback(
    (id: number, title: string) =>
      enqueue(id, 'rename the task', async () => {
        const updated = await api.updateTask(id, { title });
        setTasks((ts) => ts.map((t) => (t.id === id ? { ...t, ...updated } : t)));
      }),
    [api, enqueue],
  );

  const remove = useCallback(
    async (id: number) => {
      const task = tasks.find((t) => t.id === id);
      setTasks((ts) => ts.filter((t) => t.id !== id));
      await enqueue(id, 'delete the task', async () => {
        try {
          await api.deleteTask(id);
        } catch (err) {
          if (isApiError(err, 'not_found')) return; // already gone
          throw err;
        }
        if (task) setUndoable(task);
      });
    },
    [api, enqueue, tasks],
  );

  const undoRemove = useCallback(async () => {
    const task = undoable;
    if (!task) return;
    setUndoable(null);
    try {
      await api.restoreTask(task.id);
      setActionError(null);
    } catch (err) {
      if (!isApiError(err, 'session_expired')) setActionError(`Could not undo the delete: ${messageOf(err)}`);
    }
    await reload();
  }, [api, undoable, reload]);

  const setFilter = useCallback((f: TaskFilter) => setFilterState(f), []);
  const dismissActionError = useCallback(() => setActionError(null), []);
  const dismissUndo = useCallback(() => setUndoable(null), []);

  return {
    tasks: tasks.filter((t) => matchesFilter(t, filter)),
    filter,
    status,
    loadError,
    actionError,
    taskErrors,
    undoable,
    setFilter,
    reload,
    add,
    setCompleted,
    rename,
    remove,
    undoRemove,
    dismissUndo,
    dismissActionError,
  };
}
