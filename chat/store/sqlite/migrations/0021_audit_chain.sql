-- The audit log's hash chain (chat.AuditHash, docs/security.md): each
-- entry's place in the chain (position: 1, 2, 3, ... without gaps; 0 for
-- entries written before this migration until they are chained), its hash,
-- and the address the action came from (source). audit_head is the one
-- row that appends lock and move: the newest position and hash, and
-- whether entries from before the chain still wait to be chained (legacy;
-- the store chains them, in id order, when it next opens).
ALTER TABLE audit_log ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
ALTER TABLE audit_log ADD COLUMN hash TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_log ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE UNIQUE INDEX audit_log_position ON audit_log (position) WHERE position > 0;
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE TABLE audit_head (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    position INTEGER NOT NULL,
    hash     TEXT NOT NULL,
    legacy   INTEGER NOT NULL
);
INSERT INTO audit_head (id, position, hash, legacy)
    SELECT 1, 0, '', EXISTS (SELECT 1 FROM audit_log);

-- Still append-only, but for the one change chaining makes: giving an
-- entry from before the chain its position and hash, once.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (OLD.position = 0 AND NEW.position > 0 AND NEW.id = OLD.id AND NEW.at = OLD.at
    AND NEW.actor = OLD.actor AND NEW.action = OLD.action AND NEW.room = OLD.room
    AND NEW.target = OLD.target AND NEW.reason = OLD.reason AND NEW.detail = OLD.detail
    AND NEW.source = OLD.source)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
