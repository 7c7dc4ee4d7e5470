/**
 * The Worker's bindings. Each module declares the narrow slice it needs (for example `Pick<Env, 'DB'>`); this is the
 * whole set, as wrangler.toml and the secrets define it.
 */
export interface Env {
  DB: D1Database
  /** Base URL of Odoo, e.g. https://erp.example.com. */
  ODOO_URL: string
  /** Odoo database name. */
  ODOO_DB: string
  /** `jsonrpc`, `json2` or `auto`. */
  ODOO_PROTOCOL: string
  /** Cloudflare location hint for the key objects and limiter shards: the region nearest Odoo (keys/placement.ts). */
  ODOO_REGION?: string
  /** Milliseconds before an Odoo call is abandoned. */
  ODOO_TIMEOUT_MS: string
  /** Comma-separated browser origins allowed on /mcp. */
  ALLOWED_ORIGINS: string
  /** Secret: base64 of 32 bytes; seals the Odoo credentials stored in D1. */
  CREDENTIALS_KEY: string
  /**
   * Secret, optional: comma-separated older CREDENTIALS_KEY values, which only open what they sealed until
   * `odoo-mcp credentials reseal` has moved it under CREDENTIALS_KEY (docs/KEY-LIFECYCLE.md, "Rotating CREDENTIALS_KEY").
   */
  CREDENTIALS_KEYS_PREVIOUS?: string
  /** Secret: signs the CLI's admin API requests (docs/ADMIN-API.md). Unset (and no Access): the admin API is off. */
  ADMIN_SECRET?: string
  /** Comma-separated addresses / CIDR ranges that may reach the admin API; unset: any (authentication still applies). */
  ADMIN_ALLOWED_IPS?: string
  /** Cloudflare Access team domain (https://<team>.cloudflareaccess.com): its tokens are admin identities. */
  ACCESS_TEAM_DOMAIN?: string
  /** Comma-separated Access application audience tags (AUD) the tokens must carry. */
  ACCESS_AUD?: string
  /** The admin API's nonces and change log sequence (admin/v1/ledger.ts): one object. */
  ADMIN_LEDGER: DurableObjectNamespace<import('./admin/v1/ledger').AdminLedger>
  /** Requests per minute across all keys; "0" turns the global limit off. */
  GLOBAL_RATE_LIMIT_PER_MINUTE: string
  /** Global limiter objects the global budget is split across. */
  GLOBAL_RATE_LIMIT_SHARDS: string
  /** Per-key limit for keys whose policy has no rateLimit. */
  DEFAULT_KEY_RATE_LIMIT_PER_MINUTE: string
  /** Seconds a key object serves its cached key and policy before reading D1 again. */
  KEY_CACHE_TTL_SECONDS: string
  /** One Durable Object per API key (keys/key-object.ts). */
  KEY_OBJECTS: DurableObjectNamespace<import('./keys/key-object').KeyObject>
  /** Audit chains of requests without a valid key (audit/unauthenticated-object.ts). */
  UNAUTHENTICATED_AUDIT: DurableObjectNamespace<import('./audit/unauthenticated-object').UnauthenticatedAuditObject>
  /** Days audit records are kept; the cron deletes older ones. */
  AUDIT_RETENTION_DAYS: string
  /** "true": domain literals are stored as "?" in the audit log (the shape stays). */
  AUDIT_REDACT_DOMAIN_VALUES: string
  /** One Durable Object per webhook subscription: its delivery queue (webhooks/dispatcher.ts). */
  WEBHOOK_DISPATCHERS: DurableObjectNamespace<import('./webhooks/dispatcher').WebhookDispatcher>
  /** "true" (local development only): webhook receivers on loopback, over plain http, are allowed. */
  WEBHOOK_ALLOW_LOOPBACK?: string
  WEBHOOK_RETRY_BASE_MS?: string
  WEBHOOK_RETRY_MAX_DELAY_MS?: string
  WEBHOOK_RETRY_WINDOW_MS?: string
  /** Alert thresholds (src/alerts/rules.ts); defaults in DEFAULT_ALERT_CONFIG. */
  ALERT_AUTH_FAILURES?: string
  ALERT_AUTH_WINDOW_MINUTES?: string
  ALERT_THROTTLE_MINUTES?: string
  ALERT_SPIKE_FACTOR?: string
  ALERT_SPIKE_MINIMUM?: string
  /**
   * The gateway's public origin (https://odoo-mcp.example.com): issuer and resource of OAuth sign-in for Claude,
   * ChatGPT and other OAuth MCP clients (docs/OAUTH.md). Unset: OAuth is off, API keys only.
   */
  PUBLIC_URL?: string
  /** OAuth clients, grants and hashed tokens (@cloudflare/workers-oauth-provider). */
  OAUTH_KV: KVNamespace
  /** Failed OAuth sign-ins, counted per client address and per Odoo login (oauth/sign-in-limiter.ts). */
  SIGN_IN_LIMITER: DurableObjectNamespace<import('./oauth/sign-in-limiter').SignInLimiter>
  /** The global rate limit's shards (limits/global-limiter.ts). */
  GLOBAL_LIMITER: DurableObjectNamespace<import('./limits/global-limiter').GlobalLimiterShard>
}
