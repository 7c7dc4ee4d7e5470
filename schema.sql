-- odoo-mcp-edge D1 schema. Idempotent: safe to apply on every `npm start` and before every test file.
-- Times are integers: milliseconds since the Unix epoch, UTC.

-- One row per API key. The key itself is never stored: only its SHA-256 and a short display prefix.
CREATE TABLE IF NOT EXISTS api_keys (
  id              TEXT PRIMARY KEY,          -- 'key_' + 16 hex; the public handle used by the CLI and the audit log
  name            TEXT NOT NULL,             -- what the key is for ("n8n sales sync")
  prefix          TEXT NOT NULL,             -- 'omk_' + 8 characters, for display only
  key_hash        TEXT NOT NULL UNIQUE,      -- hex SHA-256 of the full key
  odoo_login      TEXT NOT NULL,             -- the Odoo user every call of this key runs as
  odoo_secret     TEXT NOT NULL,             -- that user's API key or password, AES-256-GCM sealed under CREDENTIALS_KEY
                                             -- with the key id as associated data ('v1.<iv>.<ciphertext>', base64)
  odoo_uid        INTEGER,                   -- resolved once by common.authenticate, then reused
  policy          TEXT,                      -- JSON policy document (see README); NULL: the key may use nothing
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER,                   -- NULL: never expires
  revoked_at      INTEGER,                   -- NULL: not revoked
  last_used_at    INTEGER
);
