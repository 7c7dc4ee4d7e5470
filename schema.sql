-- odoo-mcp-edge D1 schema. Idempotent: safe to apply on every `npm start` and before every test file.
-- Times are integers: milliseconds since the Unix epoch, UTC.

-- One row per API key. The key itself is never stored: only the SHA-256 of each of its secrets (api_key_secrets).
CREATE TABLE IF NOT EXISTS api_keys (
  id              TEXT PRIMARY KEY,          -- 'key_' + 16 hex; the public handle used by the CLI and the audit log
  name            TEXT NOT NULL,             -- what the key is for ("n8n sales sync")
  prefix          TEXT NOT NULL,             -- display prefix of the current secret: 'omk_' + 8 characters
  odoo_login      TEXT NOT NULL,             -- the Odoo user every call of this key runs as
  odoo_secret     TEXT NOT NULL,             -- that user's API key or password, AES-256-GCM sealed under CREDENTIALS_KEY
                                             -- with the key id as associated data ('v1.<iv>.<ciphertext>', base64)
  odoo_uid        INTEGER,                   -- resolved once by common.authenticate, then reused
  policy          TEXT,                      -- JSON policy document (see README); NULL: the key may use nothing
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER,                   -- NULL: never expires
  revoked_at      INTEGER,                   -- NULL: not revoked
  rotated_at      INTEGER,                   -- last `keys rotate`; NULL: never rotated
  last_used_at    INTEGER                    -- written by the key's Durable Object at most once a minute
);

-- The secrets of each key: the current one (retires_at NULL) and, after `keys rotate`, the previous ones until their
-- grace period ends. The gateway finds a key by the hash of the presented secret through the primary key.
CREATE TABLE IF NOT EXISTS api_key_secrets (
  key_hash        TEXT PRIMARY KEY,          -- hex SHA-256 of the full secret ('omk_...')
  key_id          TEXT NOT NULL REFERENCES api_keys (id),
  prefix          TEXT NOT NULL,             -- display prefix of this secret
  created_at      INTEGER NOT NULL,
  retires_at      INTEGER                    -- NULL: current; otherwise refused from this time on
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS api_key_secrets_by_key ON api_key_secrets (key_id);
