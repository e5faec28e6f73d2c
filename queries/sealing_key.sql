-- name: GetSealingKey :one
-- The recorded sealing key: the id of the key the org API keys are sealed
-- with.
SELECT * FROM sealing_key WHERE id = 'default';

-- name: HasOrgAPIKeys :one
SELECT EXISTS (SELECT 1 FROM org_api_keys) AS keys_stored;

-- name: MoveSealingKey :execrows
-- Moves the record from one key to the next, for a rotation, which then
-- re-seals every org API key in the same transaction. Zero rows: the
-- recorded key is not old_key_id.
UPDATE sealing_key SET key_id = sqlc.arg(new_key_id), updated_at = sqlc.arg(now)
WHERE id = 'default' AND key_id = sqlc.arg(old_key_id);

-- name: GetSealingKDF :one
-- The database's passphrase derivation: its salt (hex), iteration count,
-- and the key recorded when the salt was chosen (values under it may use
-- the fixed salt of older versions).
SELECT * FROM sealing_kdf WHERE id = 'default';
