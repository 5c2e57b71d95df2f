-- Encryption at rest (docs/security.md#data-at-rest): the id of the key a
-- row's text is sealed with, '' when it is stored as it is. In events it
-- covers body; in escalations message, context and evidence. The sealed
-- text stays in its own column (base64 of nonce, ciphertext and tag), so
-- the columns keep their type and a rotation finds rows by key_id.
ALTER TABLE events ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE escalations ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
