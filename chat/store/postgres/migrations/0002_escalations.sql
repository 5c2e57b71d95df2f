-- Crisis escalations (package chat/escalation). Times are unix nanoseconds
-- (UTC) in bigint columns as in 0001, NULL where the domain has a zero time.
-- Unlike message times they come from the escalation engine's clock rather
-- than PostgreSQL's, so that engines and tests agree on one clock (nodes keep
-- theirs in step with NTP, well within a lease).
--
-- JSON columns are text, not jsonb: nothing queries inside them, and jsonb
-- refuses the \u0000 escape that a message body may legitimately encode.

-- One row per escalation: the state the engine and supervisors act on.
--
-- message and context are copies of the conversation as it was when the
-- escalation opened: the record of what the supervisor was shown, kept even
-- if the messages are later edited or deleted.
--
-- dedup_key ("<len(conv)>:<conv>:<seq>", see Escalation.DedupKey) is set for
-- escalations tied to a message and unique, so a message escalates once
-- however many nodes or reporters flag it at once; NULL for concerns.
--
-- lease_owner / lease_until say which node drives the escalation's timers
-- (empty owner: nobody). TryLease takes it with one conditional UPDATE, whose
-- row lock makes racing nodes take turns: exactly one wins.
--
-- fillfactor leaves room on each page for the frequent small updates
-- (leases, deadlines) to stay HOT.
CREATE TABLE escalations (
    id           text PRIMARY KEY,
    conv_id      text NOT NULL DEFAULT '',
    conv_kind    text NOT NULL DEFAULT '',
    conv_name    text NOT NULL DEFAULT '',
    subject_id   text NOT NULL,
    subject_name text NOT NULL DEFAULT '',
    source       text NOT NULL CHECK (source IN ('detector', 'flag', 'concern')),
    reported_by  text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    severity     integer NOT NULL,
    categories   text NOT NULL DEFAULT '[]',
    evidence     text NOT NULL DEFAULT '[]',
    message      text NOT NULL DEFAULT '',
    context      text NOT NULL DEFAULT '[]',
    status       text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    tier         integer NOT NULL DEFAULT 0,
    assigned_to  text NOT NULL DEFAULT '',
    outcome      text NOT NULL DEFAULT '',
    created_at   bigint NOT NULL,
    ack_deadline bigint,
    acked_at     bigint,
    resolved_at  bigint,
    lease_owner  text NOT NULL DEFAULT '',
    lease_until  bigint NOT NULL DEFAULT 0,
    dedup_key    text UNIQUE
) WITH (fillfactor = 80);
-- Due: every node polls this every second; the partial index keeps it to
-- the few open rows however many escalations history holds.
CREATE INDEX escalations_due ON escalations (ack_deadline) WHERE status = 'open';
-- List: the supervisors' queue, most severe and oldest first.
CREATE INDEX escalations_queue ON escalations (status, severity DESC, created_at);
CREATE INDEX escalations_subject ON escalations (subject_id, created_at);

-- The timeline, append-only: rows are inserted, never updated or deleted
-- (except with their escalation), so it is an audit trail. n numbers an
-- escalation's steps from 0 in order; Update assigns it under the
-- escalation's row lock.
CREATE TABLE escalation_steps (
    escalation_id text NOT NULL REFERENCES escalations (id) ON DELETE CASCADE,
    n             integer NOT NULL CHECK (n >= 0),
    at            bigint NOT NULL,
    kind          text NOT NULL,
    actor         text NOT NULL DEFAULT '',
    detail        text NOT NULL DEFAULT '',
    recipients    text NOT NULL DEFAULT '[]',
    PRIMARY KEY (escalation_id, n)
);

-- The on-call rota: supervisor is on call at tier for [starts_at, ends_at).
CREATE TABLE oncall_shifts (
    id            text PRIMARY KEY,
    supervisor_id text NOT NULL,
    tier          text NOT NULL CHECK (tier IN ('primary', 'backup')),
    starts_at     bigint NOT NULL,
    ends_at       bigint NOT NULL,
    CHECK (ends_at > starts_at)
);
CREATE INDEX oncall_shifts_tier_start ON oncall_shifts (tier, starts_at);

-- The webhook outbox. Rows are written in the same transaction as the
-- escalation step they report (transactional outbox), so a step is never
-- recorded without its webhook. No foreign key to escalations: the outbox
-- is only ever read by itself, and accepts any delivery (EnqueueWebhook).
-- state is pending until sent or abandoned; next_attempt orders pending
-- rows (ord breaks ties: insertion order) and claims them, with FOR UPDATE
-- SKIP LOCKED so that senders on several nodes never wait for each other.
CREATE TABLE escalation_webhooks (
    id            text PRIMARY KEY,
    escalation_id text NOT NULL,
    event         text NOT NULL,
    body          bytea NOT NULL,
    created_at    bigint NOT NULL,
    attempts      integer NOT NULL DEFAULT 0,
    state         text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'abandoned')),
    next_attempt  bigint NOT NULL,
    ord           bigint GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX escalation_webhooks_due ON escalation_webhooks (next_attempt, ord) WHERE state = 'pending';
