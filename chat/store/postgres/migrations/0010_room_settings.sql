-- Room settings beyond visibility and history (docs/moderation.md#room-settings).
-- guidelines: text a member accepts before posting; guidelines_version
-- grows with every change of it, and a member's guidelines_accepted is the
-- version they accepted (0: none). locked and read_only are 0 or 1;
-- slow_mode_seconds and max_members are 0 when off. Constant defaults add the
-- columns without rewriting the tables. (0009 is left to
-- another change made at the same time; versions apply as a set.)
ALTER TABLE conversations ADD COLUMN guidelines text NOT NULL DEFAULT '';
ALTER TABLE conversations ADD COLUMN guidelines_version bigint NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN locked integer NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN read_only integer NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN slow_mode_seconds integer NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN max_members integer NOT NULL DEFAULT 0;
ALTER TABLE members ADD COLUMN guidelines_accepted bigint NOT NULL DEFAULT 0;
