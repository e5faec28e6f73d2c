-- name: GetSealingKey :one
-- The recorded sealing key: the id of the key the org API keys are sealed
-- with.
SELECT * FROM sealing_key WHERE id = 'default';

-- name: HasOrgAPIKeys :one
SELECT EXISTS (SELECT 1 FROM org_api_keys) AS keys_stored;

-- name: ClaimSealingKey :execrows
-- Records key_id as the sealing key unless another key is recorded while
-- org API keys are stored (they are sealed under it). Zero rows: refused.
INSERT INTO sealing_key (id, key_id, created_at, updated_at)
VALUES ('default', sqlc.arg(key_id), sqlc.arg(now), sqlc.arg(now))
ON CONFLICT (id) DO UPDATE SET
  key_id = excluded.key_id,
  updated_at = CASE WHEN sealing_key.key_id = excluded.key_id THEN sealing_key.updated_at ELSE excluded.updated_at END
WHERE sealing_key.key_id = excluded.key_id OR NOT EXISTS (SELECT 1 FROM org_api_keys);

-- name: MoveSealingKey :execrows
-- Moves the record from one key to the next, for a rotation, which then
-- re-seals every org API key in the same transaction. Zero rows: the
-- recorded key is not old_key_id.
UPDATE sealing_key SET key_id = sqlc.arg(new_key_id), updated_at = sqlc.arg(now)
WHERE id = 'default' AND key_id = sqlc.arg(old_key_id);
