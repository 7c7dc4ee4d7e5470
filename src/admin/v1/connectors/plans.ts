/**
 * The connector profile and connection changes of the admin API as plans (admin/v1/plan.ts; keys/plans.ts is the
 * pattern). The admin log shows a profile's policy and settings when it is added and when it is removed, and the
 * connections a change revokes; never a secret (a connection's sealed Odoo secret and its grant are not read).
 *
 * A removed name is never added again. A sign-in reads the profiles, then waits for Odoo to check the user's
 * credentials (seconds), then stores its connection under the profile's name: had the name been removed and added
 * again meanwhile, the new connection would live under the new profile although its login was checked against the
 * old one's list. With names never reused, such a connection lands under a removed profile and is refused forever.
 */
import type { Env } from '../../../env'
import { refused, type Plan } from '../plan'
import { statement, type Statement } from '../statement'
import { profileSettings, type ProfileRow } from './rows'

export interface AddProfileInput {
  name: string
  /** Compact JSON text, already validated (policy/schema.ts). */
  policy: string
  /** null: any Odoo login. */
  logins: string[] | null
  clientName: string | null
  redirectUris: string[]
  tokenTtlSeconds: number
  connectionTtlSeconds: number
}

/** The profile row without the live-connection count. */
type StoredProfile = Omit<ProfileRow, 'live'>

async function profileRow(env: Env, name: string): Promise<StoredProfile | null> {
  return env.DB.prepare(
    `SELECT name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at, removed_at
       FROM connector_profiles WHERE name = ?1`,
  )
    .bind(name)
    .first<StoredProfile>()
}

/** Connections not revoked in their row (expired ones too: none must come back to life with the name). */
async function unrevokedConnections(env: Env, profile: string): Promise<string[]> {
  const { results } = await env.DB.prepare('SELECT id FROM connections WHERE profile = ?1 AND revoked_at IS NULL ORDER BY created_at, id').bind(profile).all<{ id: string }>()
  return results.map((row) => row.id)
}

const revokeUnder = (profile: string, now: number): Statement =>
  statement(`UPDATE connections SET revoked_at = ?1, revoked_reason = 'profile_removed' WHERE profile = ?2 AND revoked_at IS NULL`, now, profile)

const iso = (ms: number) => new Date(ms).toISOString()

export async function planAddProfile(env: Env, input: AddProfileInput, now: number): Promise<Plan<{ createdAt: number }>> {
  const existing = await profileRow(env, input.name)
  if (existing && existing.removed_at === null) {
    return refused(409, 'connector_exists', `A connector named ${input.name} already exists: remove it first, or choose another name`)
  }
  if (existing) {
    return refused(
      409,
      'connector_removed',
      `The connector ${input.name} was removed on ${iso(existing.removed_at!)}; a removed name is not used again (a sign-in under way ` +
        'when it was removed could otherwise finish under the new profile): choose another name',
    )
  }
  const row = {
    policy: input.policy,
    logins: input.logins === null ? null : JSON.stringify(input.logins),
    client_name: input.clientName,
    redirect_uris: JSON.stringify(input.redirectUris),
    token_ttl_seconds: input.tokenTtlSeconds,
    connection_ttl_seconds: input.connectionTtlSeconds,
  }
  // Connections left under a name whose profile row was deleted by hand: the gateway counts them revoked only while
  // no profile has that name, so they are revoked for good before it has one again.
  const orphans = await unrevokedConnections(env, input.name)
  return {
    kind: 'change',
    target: input.name,
    before: null,
    after: { ...profileSettings(row), ...(orphans.length ? { revoked_connections: orphans } : {}) },
    statements: [
      ...(orphans.length ? [revokeUnder(input.name, now)] : []),
      statement(
        `INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
        input.name, row.policy, row.logins, row.client_name, row.redirect_uris, row.token_ttl_seconds, row.connection_ttl_seconds, now,
      ),
    ],
    result: { createdAt: now },
  }
}

export interface RemovedProfile {
  removedAt: number
  alreadyRemoved: boolean
}

/**
 * Removes a profile and revokes, in the same batch, every connection of it not yet revoked. Which ones they are is
 * found afterwards by their revocation time (routes.ts), so a sign-in that stored its connection between this plan
 * and its batch is revoked and told like the others; one stored after the batch is refused through its removed
 * profile.
 */
export async function planRemoveProfile(env: Env, input: { name: string }, now: number): Promise<Plan<RemovedProfile>> {
  const row = await profileRow(env, input.name)
  if (!row) return refused(404, 'connector_not_found', `No connector named ${input.name}`)
  if (row.removed_at !== null) return { kind: 'unchanged', result: { removedAt: row.removed_at, alreadyRemoved: true } }
  return {
    kind: 'change',
    target: input.name,
    before: { ...profileSettings(row), created_at: iso(row.created_at), removed_at: null },
    after: { removed_at: iso(now), revoked_connections: await unrevokedConnections(env, input.name) },
    statements: [
      statement('UPDATE connector_profiles SET removed_at = ?1 WHERE name = ?2 AND removed_at IS NULL', now, input.name),
      revokeUnder(input.name, now),
    ],
    result: { removedAt: now, alreadyRemoved: false },
  }
}

export interface RevokedConnection {
  alreadyRevoked: boolean
}

export async function planRevokeConnection(env: Env, input: { id: string }, now: number): Promise<Plan<RevokedConnection>> {
  const row = await env.DB.prepare('SELECT profile, client_name, odoo_login, revoked_at, revoked_reason FROM connections WHERE id = ?1')
    .bind(input.id)
    .first<{ profile: string; client_name: string; odoo_login: string; revoked_at: number | null; revoked_reason: string | null }>()
  if (!row) return refused(404, 'connection_not_found', `No connection ${input.id}`)
  if (row.revoked_at !== null) return { kind: 'unchanged', result: { alreadyRevoked: true } }
  return {
    kind: 'change',
    target: input.id,
    before: { profile: row.profile, client_name: row.client_name, odoo_login: row.odoo_login, revoked_at: null },
    after: { revoked_at: iso(now), revoked_reason: 'admin' },
    statements: [statement(`UPDATE connections SET revoked_at = ?1, revoked_reason = 'admin' WHERE id = ?2 AND revoked_at IS NULL`, now, input.id)],
    result: { alreadyRevoked: false },
    // The OAuth side revokes connections too (a refresh-token replay, the user's own revocation).
    guarded: true,
  }
}

export const connectorsPlanners = {
  'connectors.add': planAddProfile,
  'connectors.remove': planRemoveProfile,
  'connections.revoke': planRevokeConnection,
} as const
