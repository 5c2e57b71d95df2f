-- Crisis escalations (package chat/escalation). Times are unix nanoseconds
-- (UTC) as in 0001, NULL where the domain has a zero time. Unlike message
-- times they come from the escalation engine's clock, not from this
-- database, so that every node and every test agrees on one clock.

-- One row per escalation: the state the engine and supervisors act on.
--
-- categories, evidence, message and context are JSON written and read only
-- as a whole (nothing queries inside them). message and context are copies
-- of the conversation as it was when the escalation opened: the record of
-- what the supervisor was shown, kept even if the messages are later edited
-- or deleted.
--
-- dedup_key ("<len(conv)>:<conv>:<seq>", see Escalation.DedupKey) is set for
-- escalations tied to a message and unique, so a message escalates once
-- however many nodes or reporters flag it; NULL for concerns.
--
-- lease_owner / lease_until say which node drives the escalation's timers
-- (empty owner: nobody). TryLease takes it with one conditional UPDATE.
CREATE TABLE escalations (
    id           TEXT PRIMARY KEY,
    conv_id      TEXT NOT NULL DEFAULT '',
    conv_kind    TEXT NOT NULL DEFAULT '',
    conv_name    TEXT NOT NULL DEFAULT '',
    subject_id   TEXT NOT NULL,
    subject_name TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL CHECK (source IN ('detector', 'flag', 'concern')),
    reported_by  TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    severity     INTEGER NOT NULL,
    categories   TEXT NOT NULL DEFAULT '[]',
    evidence     TEXT NOT NULL DEFAULT '[]',
    message      TEXT NOT NULL DEFAULT '',
    context      TEXT NOT NULL DEFAULT '[]',
    status       TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    tier         INTEGER NOT NULL DEFAULT 0,
    assigned_to  TEXT NOT NULL DEFAULT '',
    outcome      TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    ack_deadline INTEGER,
    acked_at     INTEGER,
    resolved_at  INTEGER,
    lease_owner  TEXT NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0,
    dedup_key    TEXT UNIQUE
);
-- Due: every node polls this every second; the partial index keeps it to
-- the few open rows however many escalations history holds.
CREATE INDEX escalations_due ON escalations (ack_deadline) WHERE status = 'open';
-- List: the supervisors' queue, most severe and oldest first.
CREATE INDEX escalations_queue ON escalations (status, severity DESC, created_at);
CREATE INDEX escalations_subject ON escalations (subject_id, created_at);

-- The timeline, append-only: rows are inserted, never updated or deleted
-- (except with their escalation), so it is an audit trail. n numbers an
-- escalation's steps from 0 in order.
CREATE TABLE escalation_steps (
    escalation_id TEXT NOT NULL REFERENCES escalations (id) ON DELETE CASCADE,
    n             INTEGER NOT NULL CHECK (n >= 0),
    at            INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    actor         TEXT NOT NULL DEFAULT '',
    detail        TEXT NOT NULL DEFAULT '',
    recipients    TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (escalation_id, n)
) WITHOUT ROWID;

-- The on-call rota: supervisor is on call at tier for [starts_at, ends_at).
CREATE TABLE oncall_shifts (
    id            TEXT PRIMARY KEY,
    supervisor_id TEXT NOT NULL,
    tier          TEXT NOT NULL CHECK (tier IN ('primary', 'backup')),
    starts_at     INTEGER NOT NULL,
    ends_at       INTEGER NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX oncall_shifts_tier_start ON oncall_shifts (tier, starts_at);

-- The webhook outbox. Rows are written in the same transaction as the
-- escalation step they report (transactional outbox), so a step is never
-- recorded without its webhook. No foreign key to escalations: the outbox
-- is only ever read by itself, and accepts any delivery (EnqueueWebhook).
-- state is pending until sent or abandoned; next_attempt orders pending
-- rows (rowid breaks ties: insertion order) and claims them.
CREATE TABLE escalation_webhooks (
    id            TEXT PRIMARY KEY,
    escalation_id TEXT NOT NULL,
    event         TEXT NOT NULL,
    body          BLOB NOT NULL,
    created_at    INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    state         TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'abandoned')),
    next_attempt  INTEGER NOT NULL
);
CREATE INDEX escalation_webhooks_due ON escalation_webhooks (next_attempt) WHERE state = 'pending';
