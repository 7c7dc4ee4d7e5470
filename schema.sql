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

-- The audit log: one row per MCP request, refused ones included (docs/AUDIT.md). Rows arrive in batches from the
-- Durable Objects that sequence them; each chain (one per key, plus a few for requests without a valid key) is
-- linked by SHA-256 (prev_hash → hash), so `odoo-mcp audit verify` can tell altered, inserted or deleted rows.
CREATE TABLE IF NOT EXISTS audit_log (
  chain_id        TEXT NOT NULL,             -- key id, or 'anon-<n>' for requests without a valid key
  seq             INTEGER NOT NULL,          -- 1, 2, 3... within the chain
  time            INTEGER NOT NULL,          -- request start, ms since the epoch (UTC)
  request_id      TEXT NOT NULL,             -- also sent to the client as X-Request-Id
  key_id          TEXT,
  key_name        TEXT,
  key_prefix      TEXT,                      -- presented display prefix for unknown keys (never the secret)
  odoo_user       TEXT,
  ip              TEXT,
  user_agent      TEXT,
  client_info     TEXT,                      -- MCP clientInfo "name/version", when sent (initialize)
  method          TEXT,                      -- JSON-RPC method
  tool            TEXT,
  model           TEXT,
  operation       TEXT,                      -- search, read, count, aggregate, describe, list, create, update, delete
  record_ids      TEXT NOT NULL,             -- JSON array of the record ids returned or written
  record_ids_truncated INTEGER NOT NULL,
  fields          TEXT NOT NULL,             -- JSON array of the fields returned or written
  domain          TEXT,                      -- JSON, literal values redacted when AUDIT_REDACT_DOMAIN_VALUES is on
  outcome         TEXT NOT NULL,             -- ok, denied, error
  code            TEXT,
  http_status     INTEGER NOT NULL,
  latency_ms      INTEGER NOT NULL,
  odoo_latency_ms INTEGER,
  response_bytes  INTEGER NOT NULL,
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL,
  -- Columns added since the first release, last and in order. A table created before lacks them, and this statement
  -- does not change an existing table: the gateway adds each one the first time D1 refuses an audit batch for it
  -- (src/audit/schema-upgrade.ts, docs/AUDIT.md "Schema changes").
  query           TEXT,                      -- JSON: order, groupby, aggregates, context, limit, offset of a tool call
  PRIMARY KEY (chain_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_by_key_time ON audit_log (key_id, time);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit_log (time);
CREATE INDEX IF NOT EXISTS audit_by_model_time ON audit_log (model, time);
CREATE INDEX IF NOT EXISTS audit_by_ip_time ON audit_log (ip, time);
-- `audit search --outcome` (the newest denied or error records) without reading the many ok ones.
CREATE INDEX IF NOT EXISTS audit_by_outcome_time ON audit_log (outcome, time);

-- "Who accessed this record?": one row per (record, audit row), for GDPR subject-access requests.
CREATE TABLE IF NOT EXISTS audit_record_access (
  model           TEXT NOT NULL,
  record_id       INTEGER NOT NULL,
  time            INTEGER NOT NULL,
  chain_id        TEXT NOT NULL,
  seq             INTEGER NOT NULL,
  PRIMARY KEY (model, record_id, chain_id, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS audit_record_access_by_time ON audit_record_access (time);

-- Where each chain starts after retention deleted its oldest rows: the last deleted row's seq and hash.
CREATE TABLE IF NOT EXISTS audit_anchors (
  chain_id        TEXT PRIMARY KEY,
  seq             INTEGER NOT NULL,
  hash            TEXT NOT NULL,
  time            INTEGER NOT NULL           -- when retention last moved the anchor
);

-- Webhooks (docs/WEBHOOKS.md). Sources are the Odoo automation rules that call POST /hooks/odoo/<name>/<token>;
-- subscriptions are the external receivers; deliveries and attempts are their log.
CREATE TABLE IF NOT EXISTS webhook_sources (
  name            TEXT PRIMARY KEY,          -- [a-z0-9-], part of the URL pasted into Odoo
  token_hash      TEXT NOT NULL,             -- hex SHA-256 of the URL token (the token is shown once)
  created_at      INTEGER NOT NULL,
  revoked_at      INTEGER
);

CREATE TABLE IF NOT EXISTS webhook_subscriptions (
  id              TEXT PRIMARY KEY,          -- 'whk_' + 16 hex
  url             TEXT NOT NULL,
  models          TEXT NOT NULL,             -- JSON array of model names
  events          TEXT,                      -- JSON array of event names; NULL: every event
  fields          TEXT NOT NULL,             -- JSON: "*" or an array of field names (the payload allowlist), or {"fields": ..., "mask": {field: mask}}
  secret          TEXT NOT NULL,             -- whsec_..., AES-256-GCM sealed under CREDENTIALS_KEY (id as associated data)
  previous_secret TEXT,                      -- sealed; signs too until previous_until (rotation overlap)
  previous_until  INTEGER,
  created_at      INTEGER NOT NULL,
  disabled_at     INTEGER,                   -- set by `webhooks remove`, or when the receiver answered 410 Gone
  disabled_reason TEXT
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
  id              TEXT PRIMARY KEY,          -- 'dlv_' + 16 hex; one per (event, subscription)
  subscription_id TEXT NOT NULL,
  event_id        TEXT NOT NULL,             -- the stable webhook-id the receiver sees on every attempt
  payload         TEXT NOT NULL,             -- the filtered JSON body, as signed
  status          TEXT NOT NULL,             -- pending, delivered, dead
  attempts        INTEGER NOT NULL,
  last_status     INTEGER,
  last_error      TEXT,
  created_at      INTEGER NOT NULL,
  updated_at      INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS webhook_deliveries_by_subscription ON webhook_deliveries (subscription_id, created_at);

CREATE TABLE IF NOT EXISTS webhook_attempts (
  delivery_id     TEXT NOT NULL,
  attempt         INTEGER NOT NULL,
  time            INTEGER NOT NULL,
  status_code     INTEGER,                   -- NULL when no HTTP answer came (refused, timeout, SSRF guard)
  latency_ms      INTEGER NOT NULL,
  error           TEXT,
  PRIMARY KEY (delivery_id, attempt)
) WITHOUT ROWID;

-- Security alerts raised on the audit stream (src/alerts/rules.ts); also delivered to alert subscribers.
CREATE TABLE IF NOT EXISTS alerts (
  id              TEXT PRIMARY KEY,          -- 'alt_' + 16 hex
  time            INTEGER NOT NULL,
  rule            TEXT NOT NULL,             -- rate_limit, auth_failures, token_reuse, model_denied, field_denied, new_model, off_hours, volume_spike
  subject         TEXT NOT NULL,             -- key id, ip:…, prefix:…, key:model
  key_id          TEXT,
  message         TEXT NOT NULL,
  request_id      TEXT NOT NULL              -- the request that raised it (see the audit log)
);
CREATE INDEX IF NOT EXISTS alerts_by_time ON alerts (time);

-- OAuth sign-in (docs/OAUTH.md). A connector profile is what an administrator allows OAuth clients (Claude, ChatGPT,
-- any MCP client) to do: the policy their connections get and who may sign in. A connection is one grant: one Odoo
-- user × one client × one profile; it acts like an API key (its own Durable Object, audit chain, rate limits).
-- Tokens and codes live hashed in KV (OAUTH_KV, @cloudflare/workers-oauth-provider); D1 holds what the gateway owns.
CREATE TABLE IF NOT EXISTS connector_profiles (
  name            TEXT PRIMARY KEY,          -- [a-z0-9-], shown on the consent page
  policy          TEXT NOT NULL,             -- JSON policy document, as for a key (README "Policies")
  logins          TEXT,                      -- JSON array of the Odoo logins that may sign in; NULL: any login
  client_name     TEXT,                      -- only clients registered under this name (a label, not a proof); NULL: any
  redirect_uris   TEXT NOT NULL,             -- JSON array; only clients redirecting to one of these exactly; []: any
  token_ttl_seconds INTEGER NOT NULL,        -- lifetime of an access token
  connection_ttl_seconds INTEGER NOT NULL,   -- a connection must sign in again after this
  created_at      INTEGER NOT NULL,
  removed_at      INTEGER                    -- `connectors remove`: no new sign-ins, its connections revoked
);

CREATE TABLE IF NOT EXISTS connections (
  id              TEXT PRIMARY KEY,          -- 'con_' + 16 hex; also the OAuth user id (it starts every token)
  profile         TEXT NOT NULL,
  client_id       TEXT NOT NULL,             -- OAuth client id (random for registered clients, a URL for CIMD ones)
  client_name     TEXT NOT NULL,             -- as the client named itself (or its CIMD domain)
  redirect_uri    TEXT NOT NULL,
  grant_id        TEXT NOT NULL,             -- the OAuth grant (one per connection)
  odoo_login      TEXT NOT NULL,
  odoo_secret     TEXT NOT NULL,             -- sealed like a key's, with the connection id as associated data
  odoo_uid        INTEGER,
  created_at      INTEGER NOT NULL,
  expires_at      INTEGER NOT NULL,
  revoked_at      INTEGER,
  revoked_reason  TEXT,                      -- admin, client, refresh_reuse, reauthorized, profile_removed
  last_used_at    INTEGER
);
CREATE INDEX IF NOT EXISTS connections_by_profile ON connections (profile, created_at);

-- The admin log (docs/ADMIN-API.md "Admin log"): one row per change made through the admin API, in one hash chain
-- sequenced by the AdminLedger Durable Object and written in the same D1 batch as the change itself.
CREATE TABLE IF NOT EXISTS admin_audit (
  seq             INTEGER PRIMARY KEY,       -- 1, 2, 3...
  time            INTEGER NOT NULL,
  request_id      TEXT NOT NULL,
  actor           TEXT NOT NULL,             -- 'secret', 'secret:<name the CLI signed as>', 'access:<email>', 'access:service:<id>'
  auth            TEXT NOT NULL,             -- signature, access
  ip              TEXT,
  action          TEXT NOT NULL,             -- keys.create, keys.policy.set, connectors.add, ...
  target          TEXT NOT NULL,             -- key id, connection id, profile or source name, subscription id
  before          TEXT,                      -- JSON: the state the change replaced (never a secret); NULL for creations
  after           TEXT,                      -- JSON: the state it made
  prev_hash       TEXT NOT NULL,
  hash            TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS admin_audit_by_target ON admin_audit (target, seq);
