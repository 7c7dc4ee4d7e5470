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
  /** Milliseconds before an Odoo call is abandoned. */
  ODOO_TIMEOUT_MS: string
  /** Comma-separated browser origins allowed on /mcp. */
  ALLOWED_ORIGINS: string
  /** Secret: base64 of 32 bytes; seals the Odoo credentials stored in D1. */
  CREDENTIALS_KEY: string
}
