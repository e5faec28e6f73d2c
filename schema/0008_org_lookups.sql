-- Emails are compared case-insensitively. Rows written before orgdb may
-- hold mixed case, so user lookups use lower(email), which this index
-- serves.
CREATE INDEX idx_users_email_lower ON users(lower(email));
