-- lint:allow UNIQUE the fixture is about SHADOWED_UNIQUE
CREATE UNIQUE INDEX idx_integrations_one_per_user ON integrations(user_id);
