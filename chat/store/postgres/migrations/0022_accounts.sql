-- Sign-in (docs/protocol.md#signing-in): the people directory, browser
-- sessions with rotating refresh tokens, and emailed sign-in links.
--
-- A user's email (lower-cased, '' when unknown), where the account came
-- from (source: 'token' for a user first seen through a token minted
-- elsewhere, 'oidc', 'email'), whether it may sign in (status 'active' or
-- 'deactivated'), when it was first recorded and when it last signed in
-- (unix nanoseconds, 0: never through Kindred's own sign-in).
ALTER TABLE users ADD COLUMN email text NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'token';
ALTER TABLE users ADD COLUMN status text NOT NULL DEFAULT 'active';
ALTER TABLE users ADD COLUMN created_at bigint NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN last_sign_in_at bigint NOT NULL DEFAULT 0;
UPDATE users SET created_at = updated_at;
CREATE UNIQUE INDEX users_email ON users (email) WHERE email <> '';

-- A browser session: one sign-in, kept by a chain of refresh tokens of
-- which only the newest may be used (refresh_tokens). revoked_at is set on
-- sign-out, when a used token is presented again (reuse: the whole chain
-- ends), or when an admin ends the user's sessions.
CREATE TABLE auth_sessions (
    id           text PRIMARY KEY,
    user_id      text NOT NULL,
    created_at   bigint NOT NULL,
    expires_at   bigint NOT NULL,
    last_used_at bigint NOT NULL,
    revoked_at   bigint NOT NULL DEFAULT 0,
    revoke_reason text NOT NULL DEFAULT ''
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id);

-- Refresh tokens by their SHA-256 (hex); the token itself is never stored.
-- used_at is when it was exchanged for its successor (0: not yet).
CREATE TABLE refresh_tokens (
    hash       text PRIMARY KEY,
    session_id text NOT NULL,
    issued_at  bigint NOT NULL,
    used_at    bigint NOT NULL DEFAULT 0
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- Emailed sign-in links by their SHA-256 (hex): single use, valid for
-- minutes. invite is the room invite code the link was asked for from, if
-- any ('' otherwise).
CREATE TABLE signin_links (
    hash       text PRIMARY KEY,
    email      text NOT NULL,
    invite     text NOT NULL DEFAULT '',
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    used_at    bigint NOT NULL DEFAULT 0
);
CREATE INDEX signin_links_email ON signin_links (email, created_at);
