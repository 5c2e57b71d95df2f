-- Per-room policies set by moderators. A room without a row has the
-- defaults (every message delivered at once).
CREATE TABLE room_policies (
    conv_id       text PRIMARY KEY,
    hold_imminent boolean NOT NULL DEFAULT false
);
