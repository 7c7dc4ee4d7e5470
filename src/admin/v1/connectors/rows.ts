/**
 * Connector profiles and connections as the admin API reads them from D1 (`connector_profiles`, `connections`,
 * schema.sql) and shows them. Never `connections.odoo_secret` nor `grant_id`. A connection's status is computed the
 * way its object decides it (oauth/connection-store.ts loadStoredConnection): revoked when its row says so or its
 * profile is removed (or gone), else expired or live.
 */
import type { ProfileRow as StoredProfileRow } from '../../../oauth/connection-store'


export interface ProfileRow extends StoredProfileRow {
  removed_at: number | null
  /** Live connections, counted by the rule of LIVE below. */
  live: number
}

/** `c` a connection, `p` its profile (LEFT JOIN: a missing profile revokes, as the gateway reads it). */
const ACTIVE_PROFILE = 'p.name IS NOT NULL AND p.removed_at IS NULL'

/** The connection filters by status; `?1` is now. */
export const CONNECTION_STATUS_SQL = {
  live: `c.revoked_at IS NULL AND c.expires_at > ?1 AND ${ACTIVE_PROFILE}`,
  expired: `c.revoked_at IS NULL AND c.expires_at <= ?1 AND ${ACTIVE_PROFILE}`,
  revoked: `(c.revoked_at IS NOT NULL OR p.name IS NULL OR p.removed_at IS NOT NULL)`,
} as const

/** Profiles with their live connections; `?1` is now. */
export const PROFILE_SELECT = `SELECT p.name, p.policy, p.logins, p.client_name, p.redirect_uris, p.token_ttl_seconds, p.connection_ttl_seconds,
         p.created_at, p.removed_at,
         (SELECT COUNT(*) FROM connections c WHERE c.profile = p.name AND c.revoked_at IS NULL AND c.expires_at > ?1 AND p.removed_at IS NULL) AS live
    FROM connector_profiles p`

export const CONNECTION_SELECT = `SELECT c.id, c.profile, c.client_id, c.client_name, c.redirect_uri, c.odoo_login, c.odoo_uid, c.created_at, c.expires_at,
         c.revoked_at, c.revoked_reason, c.last_used_at, p.name AS profile_name, p.removed_at AS profile_removed_at
    FROM connections c LEFT JOIN connector_profiles p ON p.name = c.profile`

export interface ConnectionRow {
  id: string
  profile: string
  client_id: string
  client_name: string
  redirect_uri: string
  odoo_login: string
  odoo_uid: number | null
  created_at: number
  expires_at: number
  revoked_at: number | null
  revoked_reason: string | null
  last_used_at: number | null
  profile_name: string | null
  profile_removed_at: number | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

/** A profile's settings, as answers and the admin log show them (the policy parsed back to JSON). */
export function profileSettings(row: Pick<ProfileRow, 'policy' | 'logins' | 'client_name' | 'redirect_uris' | 'token_ttl_seconds' | 'connection_ttl_seconds'>) {
  return {
    logins: row.logins === null ? null : (JSON.parse(row.logins) as string[]),
    client_name: row.client_name,
    redirect_uris: JSON.parse(row.redirect_uris) as string[],
    token_ttl_seconds: row.token_ttl_seconds,
    connection_ttl_seconds: row.connection_ttl_seconds,
    policy: JSON.parse(row.policy) as unknown,
  }
}

export function profileJson(row: ProfileRow, withPolicy: boolean) {
  const { policy, ...settings } = profileSettings(row)
  return {
    name: row.name,
    status: row.removed_at === null ? ('active' as const) : ('removed' as const),
    ...settings,
    live_connections: Number(row.live),
    created_at: iso(row.created_at),
    removed_at: iso(row.removed_at),
    ...(withPolicy ? { policy } : {}),
  }
}

export type ConnectionStatus = keyof typeof CONNECTION_STATUS_SQL

export function connectionStatus(row: ConnectionRow, now: number): { status: ConnectionStatus; reason: string | null; revokedAt: number | null } {
  const profileActive = row.profile_name !== null && row.profile_removed_at === null
  if (row.revoked_at !== null) return { status: 'revoked', reason: row.revoked_reason, revokedAt: row.revoked_at }
  if (!profileActive) return { status: 'revoked', reason: 'profile_removed', revokedAt: row.profile_removed_at }
  return { status: row.expires_at <= now ? 'expired' : 'live', reason: null, revokedAt: null }
}

export function connectionJson(row: ConnectionRow, now: number) {
  const { status, reason, revokedAt } = connectionStatus(row, now)
  return {
    id: row.id,
    profile: row.profile,
    client_name: row.client_name,
    client_id: row.client_id,
    /** Where the client sends its user back: what a profile's redirect_uris pins. */
    redirect_uri: row.redirect_uri,
    odoo_login: row.odoo_login,
    odoo_uid: row.odoo_uid,
    status,
    revoked_reason: reason,
    created_at: iso(row.created_at),
    expires_at: iso(row.expires_at),
    revoked_at: iso(revokedAt),
    last_used_at: iso(row.last_used_at),
  }
}

export type ConnectionJson = ReturnType<typeof connectionJson>
export type ProfileJson = ReturnType<typeof profileJson>
