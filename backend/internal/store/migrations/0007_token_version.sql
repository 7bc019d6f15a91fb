-- Logging out bumps the user's token version; tokens carry the version they were issued with,
-- so a logged-out token stops working before it expires.
ALTER TABLE users ADD COLUMN token_version BIGINT NOT NULL DEFAULT 0;
