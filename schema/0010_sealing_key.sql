-- Record which sealing key the org API keys are sealed with: its key id (a
-- fingerprint of the key, never the key), in one row.
--
-- Why: a process still holding an old sealing key (a shell after a
-- rotation, a second service instance not yet restarted) could seal a new
-- org API key under it, leaving the table sealed with two keys that no
-- single key opens. The triggers below record the key of the first sealed
-- value and refuse any value under another key while keys are stored; a
-- rotation moves the record in the transaction that re-seals.
CREATE TABLE sealing_key (
  id TEXT PRIMARY KEY NOT NULL DEFAULT 'default' CHECK (id = 'default'),
  key_id TEXT NOT NULL CHECK (length(key_id) > 0),
  created_at TEXT NOT NULL DEFAULT (datetime('now')),
  updated_at TEXT NOT NULL DEFAULT (datetime('now'))
);

-- Keys sealed before this migration carry their key id in their header
-- ("v1:<key-id>:<sealed>"): record the one of the most recently set key.
INSERT INTO sealing_key (id, key_id)
SELECT 'default', substr(encrypted_key, 4, instr(substr(encrypted_key, 4), ':') - 1)
FROM org_api_keys
WHERE encrypted_key GLOB 'v1:[0-9a-f]*:*'
ORDER BY updated_at DESC, provider
LIMIT 1;

-- Once a key is recorded, a value sealed under another key is refused
-- while any org API key is stored; into an empty table, the first value
-- records its key (below), which may take over the record of a key whose
-- values were all deleted. A rotation moves the record first
-- (MoveSealingKey), then re-seals every row, in one transaction.
CREATE TRIGGER org_api_keys_sealed_with_recorded_key_insert BEFORE INSERT ON org_api_keys
WHEN EXISTS (SELECT 1 FROM sealing_key)
  AND NOT EXISTS (
    SELECT 1 FROM sealing_key
    WHERE substr(NEW.encrypted_key, 1, length(key_id) + 4) = 'v1:' || key_id || ':'
  )
  AND EXISTS (SELECT 1 FROM org_api_keys)
BEGIN
  SELECT RAISE(ABORT, 'org API key sealed with a key other than the recorded sealing key');
END;

CREATE TRIGGER org_api_keys_sealed_with_recorded_key_update BEFORE UPDATE OF encrypted_key ON org_api_keys
WHEN EXISTS (SELECT 1 FROM sealing_key)
  AND NOT EXISTS (
    SELECT 1 FROM sealing_key
    WHERE substr(NEW.encrypted_key, 1, length(key_id) + 4) = 'v1:' || key_id || ':'
  )
BEGIN
  SELECT RAISE(ABORT, 'org API key sealed with a key other than the recorded sealing key');
END;

-- The first sealed value stored in an empty table records its key.
CREATE TRIGGER org_api_keys_record_sealing_key AFTER INSERT ON org_api_keys
WHEN NEW.encrypted_key GLOB 'v1:?*:*'
BEGIN
  INSERT INTO sealing_key (id, key_id)
  VALUES ('default', substr(NEW.encrypted_key, 4, instr(substr(NEW.encrypted_key, 4), ':') - 1))
  ON CONFLICT (id) DO UPDATE SET key_id = excluded.key_id, updated_at = datetime('now')
  WHERE sealing_key.key_id <> excluded.key_id;
END;
