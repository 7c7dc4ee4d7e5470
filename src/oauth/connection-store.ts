/**
 * Connector profiles and connections in D1 (schema.sql). A connection is the OAuth counterpart of an API key: the
 * key object of a connection (keys/key-object.ts, named by the connection id) loads it through
 * {@link loadStoredConnection}, which presents it in a key's shape, so admission, rate limits, the Odoo session, the
 * policy guard and the audit chain work for both without knowing which is which.
 *
 * What differs is the credential: a key's secrets are hashed in D1; a connection's tokens live hashed in KV (the
 * OAuth library's), and the only thing the object compares is the grant the access token belongs to (one grant per
 * connection, so a token of an older, replaced grant is refused). The id format is in connection-id.ts.
 */
import type { Env } from '../env'
import type { StoredKey } from '../keys/key-store'
import type { ConnectorProfile } from './connector-profile'
import { connectionPrefix } from './connection-id'

/** What the object compares with the grant of the presented access token (see the module comment). */
export function grantCredential(grantId: string): string {
  return `grant:${grantId}`
}


/** A `connector_profiles` row as the connection's object reads it (the admin API reads more: admin/v1/connectors/rows.ts). */
export interface ProfileRow {
  name: string
  policy: string
  logins: string | null
  client_name: string | null
  redirect_uris: string
  token_ttl_seconds: number
  connection_ttl_seconds: number
  created_at: number
}

function profileOf(row: ProfileRow): ConnectorProfile {
  return {
    name: row.name,
    policy: row.policy,
    logins: row.logins === null ? null : (JSON.parse(row.logins) as string[]),
    clientName: row.client_name,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    tokenTtlSeconds: row.token_ttl_seconds,
    connectionTtlSeconds: row.connection_ttl_seconds,
    createdAt: row.created_at,
  }
}

const PROFILE_COLUMNS = 'name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at'

/** The profiles that take new sign-ins, by name. */
export async function activeProfiles(db: Env['DB']): Promise<ConnectorProfile[]> {
  const { results } = await db.prepare(`SELECT ${PROFILE_COLUMNS} FROM connector_profiles WHERE removed_at IS NULL ORDER BY name`).all<ProfileRow>()
  return results.map(profileOf)
}

export async function activeProfile(db: Env['DB'], name: string): Promise<ConnectorProfile | null> {
  const row = await db.prepare(`SELECT ${PROFILE_COLUMNS} FROM connector_profiles WHERE name = ?1 AND removed_at IS NULL`).bind(name).first<ProfileRow>()
  return row ? profileOf(row) : null
}

export interface NewConnection {
  id: string
  profile: string
  clientId: string
  clientName: string
  redirectUri: string
  grantId: string
  odooLogin: string
  odooSecretSealed: string
  odooUid: number | null
  createdAt: number
  expiresAt: number
}

/**
 * Stores a new connection and revokes the earlier live connections of the same Odoo login, client and profile (a
 * client that signs in again replaces its connection; its old tokens stop working). Returns the ids revoked.
 */
export async function saveConnection(db: Env['DB'], connection: NewConnection): Promise<string[]> {
  const replaced = await db
    .prepare(
      `SELECT id FROM connections WHERE odoo_login = ?1 AND client_id = ?2 AND profile = ?3 AND revoked_at IS NULL AND id != ?4`,
    )
    .bind(connection.odooLogin, connection.clientId, connection.profile, connection.id)
    .all<{ id: string }>()
  await db.batch([
    db
      .prepare(
        `INSERT INTO connections (id, profile, client_id, client_name, redirect_uri, grant_id, odoo_login, odoo_secret, odoo_uid,
                                  created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)`,
      )
      .bind(
        connection.id,
        connection.profile,
        connection.clientId,
        connection.clientName,
        connection.redirectUri,
        connection.grantId,
        connection.odooLogin,
        connection.odooSecretSealed,
        connection.odooUid,
        connection.createdAt,
        connection.expiresAt,
      ),
    ...replaced.results.map(({ id }) =>
      db.prepare(`UPDATE connections SET revoked_at = ?1, revoked_reason = 'reauthorized' WHERE id = ?2 AND revoked_at IS NULL`).bind(connection.createdAt, id),
    ),
  ])
  return replaced.results.map(({ id }) => id)
}

/** Marks a connection revoked (first reason wins); returns its grant id, or null when there is no such connection. */
export async function revokeConnection(db: Env['DB'], id: string, reason: string, at = Date.now()): Promise<{ grantId: string } | null> {
  await db.prepare('UPDATE connections SET revoked_at = ?1, revoked_reason = ?2 WHERE id = ?3 AND revoked_at IS NULL').bind(at, reason, id).run()
  const row = await db.prepare('SELECT grant_id FROM connections WHERE id = ?1').bind(id).first<{ grant_id: string }>()
  return row ? { grantId: row.grant_id } : null
}

interface ConnectionRow {
  id: string
  profile: string
  client_name: string
  grant_id: string
  odoo_login: string
  odoo_secret: string
  odoo_uid: number | null
  created_at: number
  expires_at: number
  revoked_at: number | null
  last_used_at: number | null
  profile_policy: string | null
  profile_removed_at: number | null
}

/** How a connection is named in audit records and alerts: the client, the Odoo user and the profile. */
export function connectionName(clientName: string, odooLogin: string, profile: string): string {
  return `${clientName} as ${odooLogin} (connector ${profile})`
}

/**
 * A connection in a key's shape, for its key object; null when there is no such connection. The policy is the
 * profile's as it is now (a profile edit applies on the next reload, like a key's policy); a removed profile revokes.
 */
export async function loadStoredConnection(db: Env['DB'], id: string): Promise<StoredKey | null> {
  const row = await db
    .prepare(
      `SELECT c.id, c.profile, c.client_name, c.grant_id, c.odoo_login, c.odoo_secret, c.odoo_uid, c.created_at, c.expires_at,
              c.revoked_at, c.last_used_at, p.policy AS profile_policy, p.removed_at AS profile_removed_at
         FROM connections c LEFT JOIN connector_profiles p ON p.name = c.profile
        WHERE c.id = ?1`,
    )
    .bind(id)
    .first<ConnectionRow>()
  if (!row) return null
  const revokedAt = row.revoked_at ?? row.profile_removed_at ?? (row.profile_policy === null ? row.created_at : null)
  return {
    key: {
      id: row.id,
      name: connectionName(row.client_name, row.odoo_login, row.profile),
      prefix: connectionPrefix(row.id),
      odooLogin: row.odoo_login,
      odooSecretSealed: row.odoo_secret,
      odooUid: row.odoo_uid,
      policy: row.profile_policy,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      revokedAt,
      rotatedAt: null,
      lastUsedAt: row.last_used_at,
    },
    secrets: [{ hash: grantCredential(row.grant_id), prefix: connectionPrefix(row.id), retiresAt: null }],
  }
}
