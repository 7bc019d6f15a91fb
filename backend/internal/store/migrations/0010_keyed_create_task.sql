-- A keyed create keeps the task it created as its response, instead of the response's bytes:
-- the key's claim, the create and that response then reach PostgreSQL together, as one implicit
-- transaction in one round trip, because nothing in them waits for the server to encode the
-- task. A retry gets the task encoded again, as the first answer encoded it. Other keyed
-- responses (the chat's) keep their bytes in body.
ALTER TABLE idempotency_keys ADD COLUMN task JSON;
