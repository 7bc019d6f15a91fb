-- Per-user task numbers: each user's tasks are numbered 1, 2, 3… in their own sequence. That is
-- the number the UI shows and the chat understands ("mark 1 as done"); the global id stays
-- internal to the API's URLs. Numbers are never reused, so "task 3" never silently comes to
-- mean another task after a delete.
ALTER TABLE users ADD COLUMN last_task_number BIGINT NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN number BIGINT;
UPDATE tasks t SET number = n.rn
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS rn FROM tasks) n
WHERE n.id = t.id;
UPDATE users u SET last_task_number = m.n
FROM (SELECT user_id, max(number) AS n FROM tasks GROUP BY user_id) m
WHERE m.user_id = u.id;
ALTER TABLE tasks ALTER COLUMN number SET NOT NULL;
CREATE UNIQUE INDEX tasks_user_number_key ON tasks (user_id, number);
