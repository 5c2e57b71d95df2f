-- Per-room policies set by moderators. A room without a row has the
-- defaults (every message delivered at once).
CREATE TABLE room_policies (
    conv_id       TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    hold_imminent INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
