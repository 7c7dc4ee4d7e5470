/**
 * A connector profile as the gateway reads it from D1 (`connector_profiles`, schema.sql): what an administrator allows
 * OAuth clients to do (docs/OAUTH.md). Pure type, shared by the Worker and the CLI.
 */
export interface ConnectorProfile {
  name: string
  /** Raw JSON policy document. */
  policy: string
  /** Odoo logins that may sign in; null: any. */
  logins: string[] | null
  /** Only clients registered under this name; null: any. */
  clientName: string | null
  /** Only these redirect URIs (exact); empty: any the client registered. */
  redirectUris: string[]
  tokenTtlSeconds: number
  connectionTtlSeconds: number
  createdAt: number
}
