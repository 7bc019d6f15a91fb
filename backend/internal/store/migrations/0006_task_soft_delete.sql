-- Deleting a task hides it for a while instead of destroying it, so a delete (from the list or
-- the chat) can be undone. Hidden rows older than the restore window are purged on later deletes.
ALTER TABLE tasks ADD COLUMN deleted_at TIMESTAMPTZ;
DROP INDEX tasks_user_id_idx;
CREATE INDEX tasks_user_id_live_idx ON tasks (user_id, id) WHERE deleted_at IS NULL;
