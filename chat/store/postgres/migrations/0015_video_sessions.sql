-- Live video sessions (docs/decisions/0002-video-sfu.md, "Several nodes"):
-- which node hosts a conversation's session, so that every node can send
-- its participants there. At most one row per conversation (conv_id
-- UNIQUE, which ClaimVideoSession's upsert arbitrates on: of racing
-- claims exactly one wins).
--
-- node holds the row while lease_until (unix nanoseconds, from the nodes'
-- clocks as for escalation leases) is ahead; it renews it while the
-- session runs and deletes the row when it ends. A lapsed row stays until
-- another claim for the conversation replaces it: readers ignore it.
-- started_at is unix nanoseconds too. No foreign key: conversations are
-- never deleted, and the claim checks that its conversation exists.
--
-- fillfactor leaves room on each page for the lease renewals (every few
-- seconds per session) to stay HOT updates.
CREATE TABLE video_sessions (
    id           text PRIMARY KEY,
    conv_id      text NOT NULL UNIQUE,
    node         text NOT NULL,
    host         text NOT NULL DEFAULT '',
    host_name    text NOT NULL DEFAULT '',
    waiting_room boolean NOT NULL DEFAULT false,
    started_at   bigint NOT NULL,
    lease_until  bigint NOT NULL
) WITH (fillfactor = 70);
