-- The audit log's hash chain (chat.AuditHash, docs/security.md): each
-- entry's place in the chain (position: 1, 2, 3, ... without gaps; 0 for
-- entries written before this migration until they are chained), its hash,
-- and the address the action came from (source). audit_head is the one
-- row that appends lock (SELECT ... FOR UPDATE) and move, so appends from
-- every node take turns: the newest position and hash, and whether entries
-- from before the chain still wait to be chained (legacy; the first node
-- to open the store chains them, in id order).
ALTER TABLE audit_log
    ADD COLUMN position bigint NOT NULL DEFAULT 0,
    ADD COLUMN hash text NOT NULL DEFAULT '',
    ADD COLUMN source text NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_log_position ON audit_log (position) WHERE position > 0;
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE TABLE audit_head (
    id       integer PRIMARY KEY CHECK (id = 1),
    position bigint NOT NULL,
    hash     text NOT NULL,
    legacy   integer NOT NULL
);
INSERT INTO audit_head (id, position, hash, legacy)
    SELECT 1, 0, '', CASE WHEN EXISTS (SELECT 1 FROM audit_log) THEN 1 ELSE 0 END;

-- Still append-only, but for the one change chaining makes: giving an
-- entry from before the chain its position and hash, once.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.position = 0 AND NEW.position > 0
        AND (NEW.id, NEW.at, NEW.actor, NEW.action, NEW.room, NEW.target, NEW.reason, NEW.detail, NEW.source)
            IS NOT DISTINCT FROM (OLD.id, OLD.at, OLD.actor, OLD.action, OLD.room, OLD.target, OLD.reason, OLD.detail, OLD.source) THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;
