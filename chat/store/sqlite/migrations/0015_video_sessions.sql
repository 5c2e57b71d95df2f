-- Live video sessions (docs/decisions/0002-video-sfu.md, "Several nodes"):
-- which node hosts a conversation's session, so that every node can send
-- its participants there. At most one row per conversation (conv_id
-- UNIQUE, which ClaimVideoSession's upsert arbitrates on).
--
-- node holds the row while lease_until (unix nanoseconds, from the nodes'
-- clocks as for escalation leases) is ahead; it renews it while the
-- session runs and deletes the row when it ends. A lapsed row stays until
-- another claim for the conversation replaces it: readers ignore it.
-- started_at is unix nanoseconds too; waiting_room is 0 or 1. No foreign
-- key: conversations are never deleted, and the claim checks that its
-- conversation exists.
CREATE TABLE video_sessions (
    id           TEXT PRIMARY KEY,
    conv_id      TEXT NOT NULL UNIQUE,
    node         TEXT NOT NULL,
    host         TEXT NOT NULL DEFAULT '',
    host_name    TEXT NOT NULL DEFAULT '',
    waiting_room INTEGER NOT NULL DEFAULT 0,
    started_at   INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL
);
