-- Give each database its own random salt for passphrase sealing keys, with the PBKDF2 iteration count, in one row.
-- Why: with the one fixed public salt of 0001–0010 ("orgdb sealing key v1")
-- a passphrase gave the same key in every deployment, so one precomputed
-- dictionary served against all of them. The salt is not secret. It is
-- chosen here, once per database: the runner applies this file once, in
-- one IMMEDIATE transaction, however many processes migrate at once.
--
-- Plain SQLite. The runner applies this file and its record in one
-- transaction. Once it has shipped, never edit it: write a new migration.

-- legacy_key_id is the sealing key recorded when the salt was chosen (NULL
-- if none was): values under that key were sealed by an older orgdb, with
-- a raw key or with a passphrase and the fixed salt; `orgdb status` says
-- so until `orgdb keys rotate` moves them to the salt above.
CREATE TABLE sealing_kdf (
  id TEXT PRIMARY KEY NOT NULL DEFAULT 'default' CHECK (id = 'default'),
  algorithm TEXT NOT NULL DEFAULT 'pbkdf2-sha256' CHECK (algorithm = 'pbkdf2-sha256'),
  salt TEXT NOT NULL CHECK (length(salt) = 32 AND salt NOT GLOB '*[^0-9a-f]*'),
  iterations INTEGER NOT NULL CHECK (iterations >= 600000),
  legacy_key_id TEXT CHECK (legacy_key_id IS NULL OR length(legacy_key_id) > 0),
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);

-- 16 random bytes from SQLite's CSPRNG, as lower-case hex.
INSERT INTO sealing_kdf (id, salt, iterations, legacy_key_id)
VALUES ('default', lower(hex(randomblob(16))), 600000, (SELECT key_id FROM sealing_key WHERE id = 'default'));

-- The salt is chosen once: changing or removing it would make every value
-- sealed under a passphrase key unreadable. Raising the iteration count
-- later is a new migration together with a rotation.
CREATE TRIGGER sealing_kdf_no_update BEFORE UPDATE ON sealing_kdf
BEGIN
  SELECT RAISE(ABORT, 'the sealing key salt is chosen once per database and never changes');
END;

CREATE TRIGGER sealing_kdf_no_delete BEFORE DELETE ON sealing_kdf
BEGIN
  SELECT RAISE(ABORT, 'the sealing key salt is chosen once per database and never changes');
END;
