import { useCallback, useEffect, useRef, useState } from 'react';
import { isApiError, type Api, type Task, type TaskFilter, type TaskPatch } from './api';

export type LoadStatus = 'loading' | 'ready' | 'error';

export interface TasksState {
  tasks: Task[];
  filter: TaskFilter;
  status: LoadStatus;
  /** Message for a failed load (status 'error') — the list cannot be shown. */
  loadError: string | null;
  /** Message for a failed change — the list is still shown. */
  actionError: string | null;
  setFilter: (f: TaskFilter) => void;
  reload: () => Promise<void>;
  add: (title: string) => Promise<boolean>;
  setCompleted: (id: number, completed: boolean) => Promise<void>;
  rename: (id: number, title: string) => Promise<boolean>;
  remove: (id: number) => Promise<void>;
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
  const seq = useRef(0);
  const filterRef = useRef(filter);
  filterRef.current = filter;

  const load = useCallback(
    async (f: TaskFilter, showSpinner: boolean) => {
      const mine = ++seq.current;
      // A retry after a failed load shows the spinner again; a background refresh does not.
      setStatus((s) => (showSpinner || s === 'error' ? 'loading' : s));
      try {
        const list = await api.listTasks(f);
        if (mine !== seq.current) return; // a newer load won
        setTasks(list);
        setStatus('ready');
        setLoadError(null);
      } catch (err) {
        if (mine !== seq.current || isApiError(err, 'session_expired')) return;
        setLoadError(messageOf(err));
        setStatus('error');
      }
    },
    [api],
  );

  useEffect(() => {
    void load(filter, true);
  }, [load, filter]);

  const reload = useCallback(() => load(filterRef.current, false), [load]);

  const fail = useCallback((err: unknown, what: string) => {
    if (isApiError(err, 'session_expired')) return;
    setActionError(`Could not ${what}: ${messageOf(err)}`);
  }, []);

  /** Runs a change, then refreshes the list; false (and a message) when it failed. */
  const change = useCallback(
    async (what: string, op: () => Promise<unknown>) => {
      try {
        await op();
        setActionError(null);
        await reload();
        return true;
      } catch (err) {
        fail(err, what);
        return false;
      }
    },
    [reload, fail],
  );

  const add = useCallback((title: string) => change('add the task', () => api.createTask(title)), [api, change]);

  const setCompleted = useCallback(
    async (id: number, completed: boolean) => {
      // Optimistic: tick at once, then let the server's list have the last word.
      setTasks((ts) => ts.map((t) => (t.id === id ? { ...t, completed } : t)));
      try {
        await api.updateTask(id, { completed } satisfies TaskPatch);
        setActionError(null);
      } catch (err) {
        fail(err, 'update the task');
      }
      await reload();
    },
    [api, reload, fail],
  );

  const rename = useCallback(
    (id: number, title: string) =>
      change('rename the task', async () => {
        const updated = await api.updateTask(id, { title });
        setTasks((ts) => ts.map((t) => (t.id === id ? { ...t, ...updated } : t)));
      }),
    [api, change],
  );

  const remove = useCallback(
    async (id: number) => {
      setTasks((ts) => ts.filter((t) => t.id !== id));
      try {
        await api.deleteTask(id);
        setActionError(null);
      } catch (err) {
        if (!isApiError(err, 'not_found')) fail(err, 'delete the task');
      }
      await reload();
    },
    [api, reload, fail],
  );

  const setFilter = useCallback((f: TaskFilter) => setFilterState(f), []);
  const dismissActionError = useCallback(() => setActionError(null), []);

  return {
    tasks: tasks.filter((t) => matchesFilter(t, filter)),
    filter,
    status,
    loadError,
    actionError,
    setFilter,
    reload,
    add,
    setCompleted,
    rename,
    remove,
    dismissActionError,
  };
}
