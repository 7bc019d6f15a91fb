-- Login attempts, so that rate limiting holds across every replica (no per-process state).
CREATE TABLE login_attempts (
    id         BIGSERIAL PRIMARY KEY,
    key        TEXT        NOT NULL,
    succeeded  BOOLEAN     NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_key_created_idx ON login_attempts (key, created_at);
