import { useState } from 'react';
import type { Api, User } from '../api';
import { useTasks } from '../useTasks';
import { ChatPane } from './ChatPane';
import { TaskPane } from './TaskPane';

type PaneName = 'chat' | 'tasks';

interface Props {
  api: Api;
  user: User;
  onLogout: () => void;
}

export function Workspace({ api, user, onLogout }: Props) {
  const tasks = useTasks(api);
  // Which pane a phone-sized screen shows; on wider screens both are visible.
  const [active, setActive] = useState<PaneName>('chat');

  return (
    <div className="app" data-active={active}>
      <header className="topbar">
        <h1 className="brand">
          <span className="brand__mark" aria-hidden="true">
            ✓
          </span>{' '}
          Todo Chatbot
        </h1>
        <div className="topbar__user">
          <span className="topbar__email" title={user.email}>
            {user.email}
          </span>
          <button type="button" className="btn btn--small" onClick={onLogout}>
            Log out
          </button>
        </div>
      </header>
      <nav className="tabs" aria-label="Panes">
        {(['chat', 'tasks'] as const).map((p) => (
          <button
            key={p}
            type="button"
            className="tabs__btn"
            aria-pressed={active === p}
            onClick={() => setActive(p)}
          >
            {p === 'chat' ? 'Chat' : 'Tasks'}
          </button>
        ))}
      </nav>
      <main className="panes">
        <ChatPane
          api={api}
          onTasksChanged={() => void tasks.reload()}
          hidden={active !== 'chat'}
          tasks={tasks.tasks}
        />
        <TaskPane state={tasks} hidden={active !== 'tasks'} />
      </main>
    </div>
  );
}
