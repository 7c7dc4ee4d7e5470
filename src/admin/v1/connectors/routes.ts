/**
 * /admin/v1/connectors and /admin/v1/connections: OAuth connector profiles and the connections signed in through
 * them (docs/OAUTH.md, docs/ADMIN-API.md). Reads go to D1; every change goes through the ledger (one D1 batch with
 * its admin log record). A revocation then applies at once: each revoked connection's object reloads (its tokens
 * are refused from the next request) and its OAuth grant is dropped from KV, so its refresh token cannot even reach
 * the object. The grant id is read from D1, never taken from the request.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { logError } from '../../../log'
import { CONNECTION_ID } from '../../../oauth/connection-id'
import { authorizationServer, oauthSettings } from '../../../oauth/server'
import { parsePolicy } from '../../../policy/schema'
import { applyNow, change } from '../change'
import { adminError, badCursor, echoed, decodeCursor, page, pageQuery, parseBody, parseQuery, type AdminApiEnv, type AdminContext } from '../http'
import {
  clientNameProblem,
  CONNECTION_TTL_SECONDS,
  loginProblem,
  LOGINS_MAX,
  PROFILE_NAME,
  PROFILE_NAME_RULE,
  redirectUriProblem,
  REDIRECT_URIS_MAX,
  TOKEN_TTL_SECONDS,
} from './input'
import { CONNECTION_SELECT, CONNECTION_STATUS_SQL, connectionJson, PROFILE_SELECT, profileJson, type ConnectionRow, type ProfileRow } from './rows'

export const connectorsRoutes = new Hono<AdminApiEnv>()

/**
 * At most this many revoked connections are applied at once per request: one object call and a few KV operations
 * each, which keeps a request under Workers Free's 50 subrequests. The others are refused by their objects within
 * KEY_CACHE_TTL_SECONDS (D1 says revoked already), and their grants end with their tokens.
 */
const APPLY_MAX = 40

/** A zod refinement from a `...Problem` rule of input.ts. */
const rule = (problem: (value: string) => string | undefined) => (value: string, ctx: z.RefinementCtx) => {
  const found = problem(value)
  if (found) ctx.addIssue({ code: 'custom', message: `'${value.slice(0, 200)}' ${found}` })
}

const profileName = z.string().regex(PROFILE_NAME, `must be ${PROFILE_NAME_RULE}`)

/** The policy every connection of the profile gets, checked by the very schema the gateway enforces; compacted. */
const policyDocument = z.unknown().transform((value, ctx) => {
  if (value === undefined || value === null) {
    ctx.addIssue({ code: 'custom', message: 'a policy document is required: every connection of the profile works under it' })
    return z.NEVER
  }
  const parsed = parsePolicy(value)
  if (!parsed.ok) {
    for (const error of parsed.errors) ctx.addIssue({ code: 'custom', message: `policy ${error}` })
    return z.NEVER
  }
  return JSON.stringify(value)
})

const ttl = (bounds: { min: number; max: number; fallback: number }) => z.number().int().min(bounds.min).max(bounds.max).default(bounds.fallback)

const isObject = (payload: { value: unknown }) => typeof payload.value === 'object' && payload.value !== null && !Array.isArray(payload.value)

const addBody = z
  .strictObject({
    name: profileName,
    policy: policyDocument,
    /** Who may sign in: these Odoo logins (exact, as Odoo stores them), or any_login: true. Exactly one. */
    logins: z.array(z.string().superRefine(rule(loginProblem))).min(1).max(LOGINS_MAX).optional(),
    any_login: z.boolean().optional(),
    client_name: z.string().superRefine(rule(clientNameProblem)).nullable().default(null),
    redirect_uris: z.array(z.string().superRefine(rule(redirectUriProblem))).max(REDIRECT_URIS_MAX).default([]),
    token_ttl_seconds: ttl(TOKEN_TTL_SECONDS),
    connection_ttl_seconds: ttl(CONNECTION_TTL_SECONDS),
  })
  // A profile open to every Odoo user must be asked for, never the result of a forgotten field. Checked even when
  // other fields are wrong (`when`), so one answer lists every problem.
  .refine((body) => !(body.any_login === true && body.logins !== undefined), { path: ['logins'], message: 'give either logins or any_login: true, not both', when: isObject })
  .refine((body) => body.any_login === true || body.logins !== undefined, {
    path: ['logins'],
    message: 'say who may sign in: logins (a list of Odoo logins) or any_login: true (any Odoo user)',
    when: isObject,
  })

function nameOf(c: AdminContext): string | Response {
  const name = c.req.param('name')!
  return PROFILE_NAME.test(name) ? name : adminError(c, 400, 'invalid_connector_name', `'${echoed(name)}' is not a connector name (${PROFILE_NAME_RULE})`)
}

function connectionIdOf(c: AdminContext): string | Response {
  const id = c.req.param('id')!
  // An OAuth token starts with its connection id: never echo the rest of a pasted token.
  if (/^con_[0-9a-f]{16}:/.test(id)) {
    return adminError(c, 400, 'invalid_connection_id', `That is an OAuth token, not a connection id: the id is its part before the first ':' (${id.slice(0, 20)}…)`)
  }
  return CONNECTION_ID.test(id) ? id : adminError(c, 400, 'invalid_connection_id', `'${echoed(id)}' is not a connection id (con_ + 16 hex characters)`)
}

async function profileRow(c: AdminContext, name: string, now: number): Promise<ProfileRow | null> {
  return c.env.DB.prepare(`${PROFILE_SELECT} WHERE p.name = ?2`).bind(now, name).first<ProfileRow>()
}

async function connectionRow(c: AdminContext, id: string): Promise<ConnectionRow | null> {
  return c.env.DB.prepare(`${CONNECTION_SELECT} WHERE c.id = ?1`).bind(id).first<ConnectionRow>()
}

interface Applied {
  /** Every revoked connection's object reloaded now. */
  applied: boolean
  /** OAuth grants dropped from KV (0 when OAuth is off: there are none to drop). */
  grantsRevoked: number
}

/** The OAuth library's API, or null when OAuth is off or PUBLIC_URL cannot work (the change stands either way). */
function oauthApi(c: AdminContext) {
  try {
    const settings = oauthSettings(c.env)
    return settings ? authorizationServer(settings).getOAuthApi(c.env) : null
  } catch (error) {
    logError(error, 'admin connection grants', c.get('requestId'))
    return null
  }
}

/** Makes revocations already written to D1 apply now: each object reloads, each grant is dropped. */
async function applyRevocations(c: AdminContext, connections: { id: string; grant_id: string }[]): Promise<Applied> {
  const api = connections.length ? oauthApi(c) : null
  const now = connections.slice(0, APPLY_MAX)
  const outcomes = await Promise.all(
    now.map(async ({ id, grant_id }) => {
      const reloaded = await applyNow(c, id)
      if (!api) return { reloaded, grant: false }
      try {
        await api.revokeGrant(grant_id, id)
        return { reloaded, grant: true }
      } catch (error) {
        logError(error, 'admin connection revoke grant', c.get('requestId'))
        return { reloaded, grant: false }
      }
    }),
  )
  return {
    applied: connections.length <= APPLY_MAX && outcomes.every((outcome) => outcome.reloaded),
    grantsRevoked: outcomes.filter((outcome) => outcome.grant).length,
  }
}

// ——— Connector profiles ———

const profileListQuery = z.strictObject({ ...pageQuery, status: z.enum(['active', 'removed']).optional() })
const PROFILE_STATUS_SQL = { active: 'p.removed_at IS NULL', removed: 'p.removed_at IS NOT NULL' } as const

connectorsRoutes.get('/connectors', async (c) => {
  const query = parseQuery(c, profileListQuery)
  if (!query.ok) return query.response
  const { limit, status } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([profileName]))
  if (!cursor.ok) return badCursor(c)
  const where = [status ? PROFILE_STATUS_SQL[status] : '1 = 1', '(?2 IS NULL OR p.name > ?2)']
  const { results } = await c.env.DB.prepare(`${PROFILE_SELECT} WHERE ${where.join(' AND ')} ORDER BY p.name LIMIT ?3`)
    .bind(Date.now(), cursor.value?.[0] ?? null, limit + 1)
    .all<ProfileRow>()
  const { items, next_cursor } = page(results, limit, (last) => [last.name])
  return c.json({ items: items.map((row) => profileJson(row, false)), next_cursor })
})

connectorsRoutes.post('/connectors', async (c) => {
  const body = parseBody(c, addBody)
  if (!body.ok) return body.response
  const input = body.value
  const changed = await change(c, 'connectors.add', {
    name: input.name,
    policy: input.policy,
    logins: input.any_login === true ? null : [...new Set(input.logins)],
    clientName: input.client_name,
    redirectUris: [...new Set(input.redirect_uris)],
    tokenTtlSeconds: input.token_ttl_seconds,
    connectionTtlSeconds: input.connection_ttl_seconds,
  })
  if (!changed.ok) return changed.response
  const row = await profileRow(c, input.name, Date.now())
  return c.json(profileJson(row!, true), 201)
})

connectorsRoutes.get('/connectors/:name', async (c) => {
  const name = nameOf(c)
  if (typeof name !== 'string') return name
  const row = await profileRow(c, name, Date.now())
  if (!row) return adminError(c, 404, 'connector_not_found', `No connector named ${name}`)
  return c.json(profileJson(row, true))
})

/**
 * No new sign-ins through it, and its connections revoked (`profile_removed`) and applied at once. Removing a removed
 * profile changes nothing and records nothing, but applies its revocations again (a retry after a partial failure).
 */
connectorsRoutes.post('/connectors/:name/remove', async (c) => {
  const name = nameOf(c)
  if (typeof name !== 'string') return name
  const body = parseBody(c, z.strictObject({}))
  if (!body.ok) return body.response
  const changed = await change(c, 'connectors.remove', { name })
  if (!changed.ok) return changed.response
  const { removedAt, alreadyRemoved } = changed.outcome.result
  // Exactly the connections this removal revoked: same profile, same time, same reason (plans.ts).
  const { results } = await c.env.DB.prepare(
    `SELECT id, grant_id FROM connections WHERE profile = ?1 AND revoked_at = ?2 AND revoked_reason = 'profile_removed' ORDER BY created_at, id`,
  )
    .bind(name, removedAt)
    .all<{ id: string; grant_id: string }>()
  const applied = await applyRevocations(c, results)
  return c.json({
    name,
    removed_at: new Date(removedAt).toISOString(),
    already_removed: alreadyRemoved,
    revoked_connections: results.map((row) => row.id),
    applied: applied.applied,
    grants_revoked: applied.grantsRevoked,
  })
})

// ——— Connections ———

const connectionListQuery = z.strictObject({
  ...pageQuery,
  profile: profileName.optional(),
  status: z.enum(['live', 'expired', 'revoked']).optional(),
})

connectorsRoutes.get('/connections', async (c) => {
  const query = parseQuery(c, connectionListQuery)
  if (!query.ok) return query.response
  const { limit, status, profile } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int(), z.string().regex(CONNECTION_ID)]))
  if (!cursor.ok) return badCursor(c)
  const now = Date.now()
  const where = [
    status ? CONNECTION_STATUS_SQL[status] : '?1 = ?1',
    '(?2 IS NULL OR c.profile = ?2)',
    cursor.value ? '(c.created_at, c.id) > (?3, ?4)' : '?3 IS NULL AND ?4 IS NULL',
  ]
  const { results } = await c.env.DB.prepare(`${CONNECTION_SELECT} WHERE ${where.join(' AND ')} ORDER BY c.created_at, c.id LIMIT ?5`)
    .bind(now, profile ?? null, cursor.value?.[0] ?? null, cursor.value?.[1] ?? null, limit + 1)
    .all<ConnectionRow>()
  const { items, next_cursor } = page(results, limit, (last) => [last.created_at, last.id])
  return c.json({ items: items.map((row) => connectionJson(row, now)), next_cursor })
})

connectorsRoutes.get('/connections/:id', async (c) => {
  const id = connectionIdOf(c)
  if (typeof id !== 'string') return id
  const row = await connectionRow(c, id)
  if (!row) return adminError(c, 404, 'connection_not_found', `No connection ${id}`)
  return c.json(connectionJson(row, Date.now()))
})

/**
 * Revoked for good (reason `admin`), applied at once. Revoking a revoked connection changes nothing and records
 * nothing, but tells its object and drops its grant again (the earlier call may not have reached them).
 */
connectorsRoutes.post('/connections/:id/revoke', async (c) => {
  const id = connectionIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, z.strictObject({}))
  if (!body.ok) return body.response
  const changed = await change(c, 'connections.revoke', { id })
  if (!changed.ok) return changed.response
  const grant = await c.env.DB.prepare('SELECT grant_id FROM connections WHERE id = ?1').bind(id).first<{ grant_id: string }>()
  const applied = await applyRevocations(c, grant ? [{ id, grant_id: grant.grant_id }] : [])
  const row = (await connectionRow(c, id))!
  return c.json({
    ...connectionJson(row, Date.now()),
    already_revoked: changed.outcome.result.alreadyRevoked,
    applied: applied.applied,
    grant_revoked: applied.grantsRevoked === 1,
  })
})
