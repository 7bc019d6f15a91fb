-- A chat turn (the person's message, the assistant's tool calls and their results, its reply) is
-- written at once and read back whole, so it is stored as one row: a turn costs one insert, one
-- index entry and one foreign-key check instead of that for each of its messages.
--
-- Messages are numbered 1, 2, 3… within their conversation: conversations.message_count is the
-- last number given, and a turn's messages are numbered on from its first_message. The numbers
-- are the messages' ids in the API (seen_message_id, message_id). Existing messages are numbered
-- in their old order; a page opened before this migration that sends one of the old, larger ids
-- as seen_message_id gets what a client that sends none gets (the whole window) until it reloads.
ALTER TABLE conversations ADD COLUMN message_count BIGINT NOT NULL DEFAULT 0;

CREATE TABLE turns (
    conversation_id BIGINT      NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    first_message   BIGINT      NOT NULL,
    -- [{"role","content"?,"tool_calls"?,"tool_call_id"?}, …] as the server wrote it: PostgreSQL
    -- never looks inside, so json (checked, kept as text) rather than jsonb (parsed and rebuilt).
    messages        JSON        NOT NULL CHECK (json_array_length(messages) > 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, first_message)
);

-- A turn starts at each of the person's messages.
INSERT INTO turns (conversation_id, first_message, messages, created_at)
SELECT conversation_id, min(n),
       json_agg(json_strip_nulls(json_build_object(
           'role', role,
           'content', NULLIF(content, ''),
           'tool_calls', tool_calls,
           'tool_call_id', NULLIF(tool_call_id, ''))) ORDER BY n),
       min(created_at)
FROM (SELECT m.*,
             row_number() OVER w AS n,
             count(*) FILTER (WHERE role = 'user') OVER w AS turn
      FROM messages m
      WINDOW w AS (PARTITION BY conversation_id ORDER BY id)) numbered
GROUP BY conversation_id, turn;

UPDATE conversations c SET message_count = m.n
FROM (SELECT conversation_id, count(*) AS n FROM messages GROUP BY conversation_id) m
WHERE m.conversation_id = c.id;

DROP TABLE messages;
