-- Sign-in (docs/protocol.md#signing-in): the people directory, browser
-- sessions with rotating refresh tokens, and emailed sign-in links.
--
-- A user's email (lower-cased, '' when unknown), where the account came
-- from (source: 'token' for a user first seen through a token minted
-- elsewhere, 'oidc', 'email'), whether it may sign in (status 'active' or
-- 'deactivated'), when it was first recorded and when it last signed in
-- (unix nanoseconds, 0: never through Kindred's own sign-in).
ALTER TABLE users ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN source TEXT NOT NULL DEFAULT 'token';
ALTER TABLE users ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER NOT NULL DEFAULT 0;
UPDATE users SET created_at = updated_at;
CREATE UNIQUE INDEX users_email ON users (email) WHERE email <> '';

-- A browser session: one sign-in, kept by a chain of refresh tokens of
-- which only the newest may be used (refresh_tokens). revoked_at is set on
-- sign-out, when a used token is presented again (reuse: the whole chain
-- ends), or when an admin ends the user's sessions.
CREATE TABLE auth_sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    revoke_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

-- Refresh tokens by their SHA-256 (hex); the token itself is never stored.
-- used_at is when it was exchanged for its successor (0: not yet).
CREATE TABLE refresh_tokens (
    hash       TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Emailed sign-in links by their SHA-256 (hex): single use, valid for
-- minutes. invite is the room invite code the link was asked for from, if
-- any ('' otherwise).
CREATE TABLE signin_links (
    hash       TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    invite     TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX signin_links_email ON signin_links (email, created_at);
