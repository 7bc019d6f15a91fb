-- Every chat turn updates its conversation's row: message_count, which numbers the turn's
-- messages, and updated_at. With updated_at in an index, each of those updates wrote a new row
-- version wherever there was room and a new entry in both of the table's indexes, so an active
-- conversation's id came to lead through a trail of dead versions that every turn's reads of it
-- walked. With no indexed column changed, and room left on the row's page, PostgreSQL updates it
-- on its page instead (a heap-only tuple update): no index entry, and the old version is reclaimed
-- as soon as no transaction can see it. Listing a user's conversations sorts them by activity
-- instead of reading them in order, which for the hundreds a person has at most is cheap.
DROP INDEX conversations_user_id_idx;
CREATE INDEX conversations_user_id_idx ON conversations (user_id);
ALTER TABLE conversations SET (fillfactor = 50);
