/**
 * /admin/v1/keys: API keys (docs/ADMIN-API.md "Keys"). Reads go to D1; every change goes through the ledger (one
 * D1 batch with its admin log record) and then to the key's object, so it applies on the next request.
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { newAuditRecord } from '../../../audit/record'
import { clip } from '../../../audit/trail'
import { clientAddress } from '../../../http/auth'
import { keyObject } from '../../../keys/placement'
import { logError } from '../../../log'
import { loadConfig } from '../../../config'
import { keyStatus, loadStoredKey } from '../../../keys/key-store'
import { OdooError, OdooUnavailableError } from '../../../odoo/errors'
import { parseAddress } from '../../../policy/ip-rules'
import { parsePolicy } from '../../../policy/schema'
import { adminRecordJson, adminRowToRecord } from '../admin-record'
import { applyNow, change } from '../change'
import { adminError, badCursor, badId, decodeCursor, isoTime, page, pageQuery, parseBody, parseQuery, type AdminApiEnv, type AdminContext } from '../http'
import { checkCredentials } from '../odoo-check'
import { KEY_COLUMNS, keyJson, type KeyRow } from './rows'
import { explainAccess } from './explain'
import { tryToolCall } from './try'
import { guardServices, openKeyOdoo } from '../../../gateway/session'
import { createOdooClient } from '../../../odoo/client'
import { createMetadataSource } from '../../../odoo/metadata'
import { loadLimitsConfig } from '../../../limits/config'
import { ToolError } from '../../../errors'
import type { Policy } from '../../../policy/schema'

export const KEY_ID = /^key_[0-9a-f]{16}$/
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
/** Up to 100 years: "until that date" is a legitimate answer; the number only has to stay an integer. */
const MAX_GRACE_SECONDS = 36_500 * 86_400

export const keyRoutes = new Hono<AdminApiEnv>()

const text = (max: number, what: string) =>
  z
    .string()
    .refine((value) => value.trim() !== '' && [...value].length <= max, `${what} must be 1 to ${max} characters`)
    .refine((value) => !CONTROL.test(value), `${what} must not contain control characters`)

const secret = z.string().min(1, 'must not be empty').max(4096)

/** A policy document, checked by the very schema the gateway enforces; stored compacted. */
const policyDocument = z.unknown().transform((value, ctx) => {
  if (value === null) return null
  const parsed = parsePolicy(value)
  if (!parsed.ok) {
    for (const error of parsed.errors) ctx.addIssue({ code: 'custom', message: `policy ${error}` })
    return z.NEVER
  }
  return JSON.stringify(value)
})

function keyIdOf(c: AdminContext): string | Response {
  const id = c.req.param('id')!
  if (id.startsWith('omk_')) return adminError(c, 400, 'invalid_key_id', 'That is an API key or its prefix, not a key id: use the id (key_...) `keys list` shows')
  return KEY_ID.test(id) ? id : badId(c, 'key', id, 'key_ + 16 hex characters')
}

async function keyRow(c: AdminContext, id: string): Promise<KeyRow | null> {
  return c.env.DB.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE id = ?1`).bind(id).first<KeyRow>()
}

const STATUS_FILTER = {
  active: 'revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?1)',
  expired: 'revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?1',
  revoked: 'revoked_at IS NOT NULL',
} as const

const listQuery = z.strictObject({ ...pageQuery, status: z.enum(['active', 'expired', 'revoked']).optional() })

keyRoutes.get('/', async (c) => {
  const query = parseQuery(c, listQuery)
  if (!query.ok) return query.response
  const { limit, status } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int(), z.string().max(40)]))
  if (!cursor.ok) return badCursor(c)
  const now = Date.now()
  const where = [status ? STATUS_FILTER[status] : '?1 = ?1', cursor.value ? '(created_at, id) > (?2, ?3)' : '?2 IS NULL AND ?3 IS NULL']
  const { results } = await c.env.DB.prepare(`SELECT ${KEY_COLUMNS} FROM api_keys WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?4`)
    .bind(now, cursor.value?.[0] ?? null, cursor.value?.[1] ?? null, limit + 1)
    .all<KeyRow>()
  const { items, next_cursor } = page(results, limit, (last) => [last.created_at, last.id])
  return c.json({ items: items.map((row) => keyJson(row, now, false)), next_cursor })
})

keyRoutes.get('/:id', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const row = await keyRow(c, id)
  if (!row) return adminError(c, 404, 'key_not_found', `No key ${id}`)
  return c.json(keyJson(row, Date.now(), true))
})

const createBody = z.strictObject({
  name: text(100, 'name'),
  odoo_login: text(255, 'odoo_login'),
  odoo_secret: secret,
  policy: policyDocument.optional(),
  expires_at: isoTime.nullable().optional(),
  /** false: store without asking Odoo (offline provisioning); a wrong secret then shows at the first tool call. */
  verify: z.boolean().default(true),
})

keyRoutes.post('/', async (c) => {
  const body = parseBody(c, createBody)
  if (!body.ok) return body.response
  const input = body.value
  let checked: { uid: number | null; protocol: string; loginChecked: boolean } | undefined
  if (input.verify) {
    const result = await checkCredentials(c, input.odoo_login, input.odoo_secret)
    if (!result.ok) return result.response
    checked = result
  }
  const changed = await change(c, 'keys.create', {
    name: input.name,
    odooLogin: input.odoo_login,
    odooSecret: input.odoo_secret,
    odooUid: checked?.uid ?? null,
    policy: input.policy ?? null,
    expiresAt: input.expires_at ?? null,
  })
  if (!changed.ok) return changed.response
  const created = changed.outcome.result
  return c.json(
    {
      id: created.id,
      name: created.name,
      key: created.key,
      prefix: created.prefix,
      odoo_login: input.odoo_login,
      odoo_uid: checked?.uid ?? null,
      verified: checked !== undefined,
      login_checked: checked?.loginChecked ?? false,
      expires_at: input.expires_at ? new Date(input.expires_at).toISOString() : null,
      has_policy: (input.policy ?? null) !== null,
    },
    201,
  )
})

keyRoutes.post('/:id/revoke', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, z.strictObject({}))
  if (!body.ok) return body.response
  const changed = await change(c, 'keys.revoke', { id })
  if (!changed.ok) return changed.response
  const applied = await applyNow(c, id)
  const { alreadyRevoked, revokedAt } = changed.outcome.result
  return c.json({ id, revoked_at: new Date(revokedAt).toISOString(), already_revoked: alreadyRevoked, applied })
})

keyRoutes.put('/:id/policy', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, z.strictObject({ policy: policyDocument }))
  if (!body.ok) return body.response
  if (body.value.policy === null) return adminError(c, 400, 'invalid_body', 'A policy must be a policy document; revoke the key to stop it for good')
  const changed = await change(c, 'keys.policy.set', { id, policy: body.value.policy })
  if (!changed.ok) return changed.response
  return c.json({ id, policy: JSON.parse(body.value.policy) as unknown, applied: await applyNow(c, id) })
})

keyRoutes.post('/:id/rotate', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, z.strictObject({ grace_seconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).default(86_400) }))
  if (!body.ok) return body.response
  const changed = await change(c, 'keys.rotate', { id, graceSeconds: body.value.grace_seconds })
  if (!changed.ok) return changed.response
  const rotated = changed.outcome.result
  return c.json({ id, key: rotated.key, prefix: rotated.prefix, grace_ends_at: new Date(rotated.graceEndsAt).toISOString(), applied: await applyNow(c, id) })
})

keyRoutes.put('/:id/odoo-secret', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, z.strictObject({ odoo_secret: secret, verify: z.boolean().default(true) }))
  if (!body.ok) return body.response
  const row = await keyRow(c, id)
  if (!row) return adminError(c, 404, 'key_not_found', `No key ${id}`)
  let checked: { uid: number | null; loginChecked: boolean } | undefined
  if (body.value.verify) {
    const result = await checkCredentials(c, row.odoo_login, body.value.odoo_secret)
    if (!result.ok) return result.response
    checked = result
  }
  const changed = await change(c, 'keys.odoo_secret.set', { id, odooSecret: body.value.odoo_secret, odooUid: checked?.uid ?? null, verified: checked !== undefined })
  if (!changed.ok) return changed.response
  const applied = await applyNow(c, id)
  // The key's own audit chain shows the change too, beside its requests (admin/set-odoo-secret, never the secret).
  const inKeyChain = await keyObject(c.env, id)
    .appendAudit(
      newAuditRecord({
        time: Date.now(),
        requestId: c.get('requestId'),
        keyId: id,
        keyName: row.name,
        keyPrefix: row.prefix,
        odooUser: row.odoo_login,
        ip: clip(clientAddress(c.req.raw)),
        userAgent: clip(c.req.header('user-agent')),
        method: 'admin/set-odoo-secret',
        code: checked ? 'odoo_credentials_verified' : 'odoo_credentials_not_verified',
        httpStatus: 200,
      }),
    )
    .then(
      () => true,
      (error: unknown) => (logError(error, 'admin odoo secret audit', c.get('requestId')), false),
    )
  return c.json({
    id,
    odoo_login: row.odoo_login,
    odoo_uid: checked?.uid ?? null,
    verified: checked !== undefined,
    login_checked: checked?.loginChecked ?? false,
    applied,
    in_key_audit_chain: inKeyChain,
  })
})

const historyQuery = z.strictObject(pageQuery)

/** The admin log of one key: every change, who made it, before and after (SOC2 change management). */
keyRoutes.get('/:id/history', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const query = parseQuery(c, historyQuery)
  if (!query.ok) return query.response
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int().min(0)]))
  if (!cursor.ok) return badCursor(c)
  const { results } = await c.env.DB.prepare('SELECT * FROM admin_audit WHERE target = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3')
    .bind(id, cursor.value?.[0] ?? 0, query.value.limit + 1)
    .all<Record<string, unknown>>()
  const records = results.map(adminRowToRecord)
  const { items, next_cursor } = page(records, query.value.limit, (last) => [last.seq])
  const exists = items.length > 0 || (await keyRow(c, id)) !== null
  if (!exists) return adminError(c, 404, 'key_not_found', `No key ${id}`)
  return c.json({ items: items.map(adminRecordJson), next_cursor })
})


/** Odoo did not answer what try / explain asked as the key's user: 502 with what it said (never a 500). */
function odooDown(c: AdminContext, error: unknown, question: string): Response {
  if (error instanceof OdooUnavailableError || error instanceof OdooError) {
    return adminError(c, 502, 'odoo_unavailable', `Odoo did not answer ${question}: ${error.message}`)
  }
  throw error
}

const tryBody = z.strictObject({
  tool: z.string().min(1).max(64),
  arguments: z.record(z.string(), z.unknown()).default({}),
  ip: z
    .string()
    .max(64)
    .refine((text) => parseAddress(text).ok, 'must be an IPv4 or IPv6 address')
    .optional(),
})

/** Would this call be allowed, and why not (keys/try.ts). Reads no Odoo data; not an admin change, so not logged. */
keyRoutes.post('/:id/try', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, tryBody)
  if (!body.ok) return body.response
  const stored = await loadStoredKey(c.env.DB, id)
  if (!stored) return adminError(c, 404, 'key_not_found', `No key ${id}`)
  try {
    return c.json(await tryToolCall(c.env, loadConfig(c.env), stored.key, body.value, Date.now(), (error, where) => logError(error, where, c.get('requestId'))))
  } catch (error) {
    return odooDown(c, error, "the metadata question the guard asks as this key's user")
  }
})

const MODEL_NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const explainQuery = z.strictObject({ model: z.string().max(128).regex(MODEL_NAME, 'must be a model name such as res.partner').optional() })


/** What can this key do: its policy intersected with the Odoo user's rights, asked as that user (keys/explain.ts). */
keyRoutes.get('/:id/explain', async (c) => {
  const id = keyIdOf(c)
  if (typeof id !== 'string') return id
  const query = parseQuery(c, explainQuery)
  if (!query.ok) return query.response
  const stored = await loadStoredKey(c.env.DB, id)
  if (!stored) return adminError(c, 404, 'key_not_found', `No key ${id}`)
  const key = stored.key
  try {
    const opened = await openKeyOdoo({ env: c.env, config: loadConfig(c.env), key, waitUntil: (promise) => c.executionCtx.waitUntil(promise), logError: (error, where) => logError(error, where, c.get('requestId')) })
    const explanation = await explainAccess({
      ...opened,
      login: key.odooLogin,
      defaultRateLimit: loadLimitsConfig(c.env).defaultKeyLimit,
      ...(query.value.model ? { model: query.value.model } : {}),
    })
    const status = keyStatus(key, Date.now())
    return c.json({ key: { id: key.id, name: key.name, status, expires_at: key.expiresAt === null ? null : new Date(key.expiresAt).toISOString() }, ...explanation })
  } catch (error) {
    if (error instanceof ToolError) return adminError(c, 409, error.code, error.message)
    return odooDown(c, error, "the questions asked as the key's user")
  }
})

const explainBody = z.strictObject({
  policy: z.unknown(),
  odoo_login: z.string().min(1).max(256),
  odoo_secret: secret,
  model: z.string().max(128).regex(MODEL_NAME, 'must be a model name such as res.partner').optional(),
})

/**
 * The dry run: a policy not stored yet, for an Odoo login and secret (checked first, as keys create checks them).
 * Nothing is stored; the secret is used for this request only.
 */
export const policyRoutes = new Hono<AdminApiEnv>()
policyRoutes.post('/explain', async (c) => {
  const body = parseBody(c, explainBody)
  if (!body.ok) return body.response
  const parsed = parsePolicy(body.value.policy)
  if (!parsed.ok) return adminError(c, 400, 'invalid_policy', 'The policy is not valid', parsed.errors.map((error) => `policy ${error}`))
  const checked = await checkCredentials(c, body.value.odoo_login, body.value.odoo_secret)
  if (!checked.ok) return checked.response
  const config = loadConfig(c.env)
  const policy: Policy = parsed.policy
  const odoo = createOdooClient({
    baseUrl: config.odooUrl,
    db: config.odooDb,
    protocol: config.odooProtocol,
    timeoutMs: config.odooTimeoutMs,
    credentials: { login: body.value.odoo_login, secret: body.value.odoo_secret },
    // Per request: a dry run never shares (or fills) the uid cache of real keys.
    uidCacheKey: `explain:${c.get('requestId')}`,
    knownUid: checked.uid,
  })
  try {
    const explanation = await explainAccess({
      policy,
      odoo,
      login: body.value.odoo_login,
      metadata: createMetadataSource(odoo, `${config.odooUrl}|${body.value.odoo_login}`),
      services: await guardServices(policy, odoo, c.env.CREDENTIALS_KEY, `explain:${c.get('requestId')}`),
      defaultRateLimit: loadLimitsConfig(c.env).defaultKeyLimit,
      ...(body.value.model ? { model: body.value.model } : {}),
    })
    return c.json(explanation)
  } catch (error) {
    return odooDown(c, error, "the questions asked as the key's user")
  }
})
