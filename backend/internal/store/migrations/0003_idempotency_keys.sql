-- Idempotency keys: the first response to a write, so a retried request (same user, same key)
-- gets that response again instead of writing twice. Rows are written in the same transaction as
-- the write they describe, so a key exists exactly when its write committed.
CREATE TABLE idempotency_keys (
    user_id      BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          TEXT        NOT NULL,
    request_hash BYTEA       NOT NULL,
    status       INTEGER     NOT NULL DEFAULT 0,
    location     TEXT        NOT NULL DEFAULT '',
    body         BYTEA       NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);
