/**
 * /admin/v1/webhooks: sources (the URLs Odoo posts to), subscriptions (where events go, signed) and deliveries
 * (docs/WEBHOOKS.md, docs/ADMIN-API.md "Webhooks"). Reads go to D1; every change goes through the ledger (one D1 batch
 * with its admin log record). Secrets are made here and answered once: a source's URL token (only its hash is kept)
 * and a subscription's signing secret (kept sealed).
 */
import { Hono } from 'hono'
import { z } from 'zod'
import { ALERTS_MODEL } from '../../../alerts/rules'
import { logError } from '../../../log'
import { isValidWebhookSecret } from '../../../webhooks/signing'
import { MASKS } from '../../../policy/masks'
import { change } from '../change'
import { adminError, badCursor, badId, echoed, decodeCursor, page, pageQuery, parseBody, parseQuery, type AdminApiEnv, type AdminContext } from '../http'
import {
  DELIVERY_COLUMNS,
  DELIVERY_ID,
  deliveryJson,
  EVENT,
  FIELD,
  MODEL,
  SOURCE_COLUMNS,
  SOURCE_NAME,
  sourceJson,
  SUBSCRIPTION_COLUMNS,
  SUBSCRIPTION_ID,
  subscriptionJson,
  type DeliveryRow,
  type SourceRow,
  type SubscriptionRow,
} from './rows'
import { checkTarget } from './target'

export const webhooksRoutes = new Hono<AdminApiEnv>()

/** Up to 100 years, as a key's rotation grace: "until that date" is the administrator's call. */
const MAX_OVERLAP_SECONDS = 36_500 * 86_400
const MAX_URL_LENGTH = 2048

const emptyBody = z.strictObject({})

function idOf(c: AdminContext, pattern: RegExp, kind: string, shape: string): string | Response {
  const id = c.req.param('id')!
  return pattern.test(id) ? id : badId(c, kind, id, shape)
}

const subscriptionIdOf = (c: AdminContext) => idOf(c, SUBSCRIPTION_ID, 'subscription', 'whk_ + 16 hex characters')

function sourceNameOf(c: AdminContext): string | Response {
  const name = c.req.param('name')!
  if (SOURCE_NAME.test(name)) return name
  return adminError(c, 400, 'invalid_source_name', `'${echoed(name)}' is not a source name (1-63 lowercase letters, digits and -, not starting with -)`)
}

const sourceName = z.string().regex(SOURCE_NAME, 'must be 1-63 lowercase letters, digits and -, not starting with -')

// Sources ---------------------------------------------------------------------------------------------------------

webhooksRoutes.get('/sources', async (c) => {
  const query = parseQuery(c, z.strictObject(pageQuery))
  if (!query.ok) return query.response
  const cursor = decodeCursor(query.value.cursor, z.tuple([sourceName]))
  if (!cursor.ok) return badCursor(c)
  const { results } = await c.env.DB.prepare(`SELECT ${SOURCE_COLUMNS} FROM webhook_sources WHERE name > ?1 ORDER BY name LIMIT ?2`)
    .bind(cursor.value?.[0] ?? '', query.value.limit + 1)
    .all<SourceRow>()
  const { items, next_cursor } = page(results, query.value.limit, (last) => [last.name])
  return c.json({ items: items.map(sourceJson), next_cursor })
})

webhooksRoutes.post('/sources', async (c) => {
  const body = parseBody(c, z.strictObject({ name: sourceName }))
  if (!body.ok) return body.response
  const changed = await change(c, 'webhooks.source.add', { name: body.value.name })
  if (!changed.ok) return changed.response
  const { name, token } = changed.outcome.result
  const path = `/hooks/odoo/${name}/${token}`
  return c.json({ name, token, path, url: new URL(c.req.url).origin + path }, 201)
})

webhooksRoutes.post('/sources/:name/revoke', async (c) => {
  const name = sourceNameOf(c)
  if (typeof name !== 'string') return name
  const body = parseBody(c, emptyBody)
  if (!body.ok) return body.response
  const changed = await change(c, 'webhooks.source.revoke', { name })
  if (!changed.ok) return changed.response
  const { revokedAt, alreadyRevoked } = changed.outcome.result
  return c.json({ name, revoked_at: new Date(revokedAt).toISOString(), already_revoked: alreadyRevoked })
})

// Subscriptions ---------------------------------------------------------------------------------------------------

/** A list of names: at least one, duplicates folded (the order of first appearance kept). */
const names = (pattern: RegExp, what: string, max: number) =>
  z
    .array(z.string().max(128).regex(pattern, `must be ${what}`))
    .min(1, 'needs at least one value')
    .max(max, `at most ${max} values`)
    .transform((items) => [...new Set(items)])

const addBody = z
  .strictObject({
    url: z.string().min(1, 'must not be empty').max(MAX_URL_LENGTH, `must be at most ${MAX_URL_LENGTH} characters`),
    models: names(MODEL, 'a model name such as sale.order', 100).optional(),
    /** true: the security alerts (src/alerts/rules.ts) instead of Odoo events. */
    alerts: z.boolean().default(false),
    /** null or absent: every event. */
    events: names(EVENT, 'an event name such as create, write or unlink', 32).nullable().default(null),
    /** The payload allowlist; "*": every field Odoo sends except sensitive ones. */
    fields: z.union([z.literal('*'), names(FIELD, 'a field name such as partner_id', 500)]).default('*'),
    /**
     * Fields delivered only masked (src/policy/masks.ts): field → partial | last4 | hash | redact, as in key policies.
     * null or absent: none (null is what GET answers for a subscription without masks).
     */
    mask: z
      // Keys are checked below: zod's own message for a record key names no rule.
      .record(z.string(), z.enum(MASKS, { error: `masks are ${MASKS.join(', ')}` }))
      .nullable()
      .optional(),
    /** Absent: the gateway generates one. */
    secret: z.string().max(200).refine(isValidWebhookSecret, 'must be whsec_ followed by base64 of 24 to 64 bytes').optional(),
  })
  .superRefine((body, ctx) => {
    if (body.alerts && body.models !== undefined) ctx.addIssue({ code: 'custom', path: ['models'], message: 'give models or alerts: true, not both' })
    if (!body.alerts && body.models === undefined) ctx.addIssue({ code: 'custom', path: ['models'], message: 'required (or alerts: true for the security alerts)' })
    if (body.alerts && body.mask && Object.keys(body.mask).length > 0) {
      ctx.addIssue({ code: 'custom', path: ['mask'], message: 'alerts carry no Odoo fields to mask: give mask with models, not with alerts: true' })
      return
    }
    if (Object.keys(body.mask ?? {}).length > 500) ctx.addIssue({ code: 'custom', path: ['mask'], message: 'at most 500 masked fields' })
    for (const field of Object.keys(body.mask ?? {})) {
      if (!FIELD.test(field)) ctx.addIssue({ code: 'custom', path: ['mask', field], message: 'mask keys are field names such as email' })
      else if (field === 'id') ctx.addIssue({ code: 'custom', path: ['mask', field], message: "'id' cannot be masked (every payload carries it as recordId)" })
      else if (body.fields !== '*' && !body.fields.includes(field)) ctx.addIssue({ code: 'custom', path: ['mask', field], message: 'a masked field must also be in fields (the mask says how it is delivered)' })
    }
  })

/** The URL checked as the dispatcher will check it, plus where its host name resolves: an answer, or a 4xx/503. */
async function targetOf(c: AdminContext, url: string): Promise<string | Response> {
  const verdict = await checkTarget(url, c.env.WEBHOOK_ALLOW_LOOPBACK === 'true')
  if (verdict.ok) return verdict.url
  if (verdict.kind === 'unavailable') {
    return adminError(c, 503, 'dns_unavailable', `Cannot check where the URL's host resolves right now (${verdict.reason}); nothing was changed, retry`, undefined, { 'Retry-After': '5' })
  }
  return adminError(c, 422, 'webhook_url_refused', `The URL is refused: ${verdict.reason}`, [verdict.reason])
}

const subscriptionStatus = { active: 'disabled_at IS NULL', disabled: 'disabled_at IS NOT NULL' } as const

webhooksRoutes.get('/subscriptions', async (c) => {
  const query = parseQuery(c, z.strictObject({ ...pageQuery, status: z.enum(['active', 'disabled']).optional() }))
  if (!query.ok) return query.response
  const { limit, status } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int(), z.string().regex(SUBSCRIPTION_ID)]))
  if (!cursor.ok) return badCursor(c)
  const where = [status ? subscriptionStatus[status] : '1 = 1', cursor.value ? '(created_at, id) > (?1, ?2)' : '?1 IS NULL AND ?2 IS NULL']
  const { results } = await c.env.DB.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE ${where.join(' AND ')} ORDER BY created_at, id LIMIT ?3`)
    .bind(cursor.value?.[0] ?? null, cursor.value?.[1] ?? null, limit + 1)
    .all<SubscriptionRow>()
  const now = Date.now()
  const { items, next_cursor } = page(results, limit, (last) => [last.created_at, last.id])
  return c.json({ items: items.map((row) => subscriptionJson(row, now)), next_cursor })
})

webhooksRoutes.get('/subscriptions/:id', async (c) => {
  const id = subscriptionIdOf(c)
  if (typeof id !== 'string') return id
  const row = await c.env.DB.prepare(`SELECT ${SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE id = ?1`).bind(id).first<SubscriptionRow>()
  if (!row) return adminError(c, 404, 'subscription_not_found', `No subscription ${id}`)
  return c.json(subscriptionJson(row, Date.now()))
})

webhooksRoutes.post('/subscriptions', async (c) => {
  const body = parseBody(c, addBody)
  if (!body.ok) return body.response
  const input = body.value
  const url = await targetOf(c, input.url)
  if (typeof url !== 'string') return url
  const models = input.alerts ? [ALERTS_MODEL] : input.models!
  const mask = input.mask && Object.keys(input.mask).length > 0 ? input.mask : null
  const changed = await change(c, 'webhooks.add', { url, models, events: input.events, fields: input.fields, mask, secret: input.secret ?? null })
  if (!changed.ok) return changed.response
  const { id, secret, createdAt } = changed.outcome.result
  return c.json({ id, secret, url, models, events: input.events, fields: input.fields, mask, created_at: new Date(createdAt).toISOString() }, 201)
})

webhooksRoutes.post('/subscriptions/:id/remove', async (c) => {
  const id = subscriptionIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, emptyBody)
  if (!body.ok) return body.response
  const changed = await change(c, 'webhooks.remove', { id })
  if (!changed.ok) return changed.response
  const { disabledAt, disabledReason, alreadyDisabled } = changed.outcome.result
  return c.json({ id, disabled_at: new Date(disabledAt).toISOString(), disabled_reason: disabledReason, already_disabled: alreadyDisabled })
})

const rotateBody = z.strictObject({
  /** How long the previous secret keeps signing beside the new one; 0: it stops now. */
  overlap_seconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(86_400),
  secret: z.string().max(200).refine(isValidWebhookSecret, 'must be whsec_ followed by base64 of 24 to 64 bytes').optional(),
})

webhooksRoutes.post('/subscriptions/:id/rotate-secret', async (c) => {
  const id = subscriptionIdOf(c)
  if (typeof id !== 'string') return id
  const body = parseBody(c, rotateBody)
  if (!body.ok) return body.response
  const changed = await change(c, 'webhooks.rotate_secret', { id, overlapSeconds: body.value.overlap_seconds, secret: body.value.secret ?? null })
  if (!changed.ok) return changed.response
  const { secret, overlapEndsAt, previousReadable } = changed.outcome.result
  return c.json({
    id,
    secret,
    previous_secret_until: overlapEndsAt === null ? null : new Date(overlapEndsAt).toISOString(),
    previous_secret_readable: previousReadable,
  })
})

// Deliveries ------------------------------------------------------------------------------------------------------

const deliveriesQuery = z.strictObject({
  ...pageQuery,
  subscription_id: z.string().regex(SUBSCRIPTION_ID, 'must be a subscription id (whk_ + 16 hex characters)').optional(),
  status: z.enum(['pending', 'delivered', 'dead']).optional(),
})

/** Newest first: what an administrator looks for is what just went wrong. */
webhooksRoutes.get('/deliveries', async (c) => {
  const query = parseQuery(c, deliveriesQuery)
  if (!query.ok) return query.response
  const { limit, subscription_id: subscriptionId, status } = query.value
  const cursor = decodeCursor(query.value.cursor, z.tuple([z.number().int(), z.string().regex(DELIVERY_ID)]))
  if (!cursor.ok) return badCursor(c)
  const where = [
    subscriptionId ? 'subscription_id = ?1' : '?1 IS NULL',
    status ? 'status = ?2' : '?2 IS NULL',
    cursor.value ? '(created_at, id) < (?3, ?4)' : '?3 IS NULL AND ?4 IS NULL',
  ]
  const { results } = await c.env.DB.prepare(`SELECT ${DELIVERY_COLUMNS} FROM webhook_deliveries WHERE ${where.join(' AND ')} ORDER BY created_at DESC, id DESC LIMIT ?5`)
    .bind(subscriptionId ?? null, status ?? null, cursor.value?.[0] ?? null, cursor.value?.[1] ?? null, limit + 1)
    .all<DeliveryRow>()
  // An empty page for a subscription that does not exist is a typo, not "no deliveries yet".
  if (results.length === 0 && subscriptionId && !(await c.env.DB.prepare('SELECT 1 FROM webhook_subscriptions WHERE id = ?1').bind(subscriptionId).first())) {
    return adminError(c, 404, 'subscription_not_found', `No subscription ${subscriptionId}`)
  }
  const { items, next_cursor } = page(results, limit, (last) => [last.created_at, last.id])
  return c.json({ items: items.map(deliveryJson), next_cursor })
})

/**
 * Queues a delivery again (a dead letter, typically) with the same event id, so receivers de-duplicate it. The
 * change (status back to pending, with its admin log record) is made first; then the subscription's dispatcher takes
 * it. A delivery still in the dispatcher's queue stays there once (the queue is keyed by delivery id).
 */
webhooksRoutes.post('/deliveries/:id/redeliver', async (c) => {
  const id = idOf(c, DELIVERY_ID, 'delivery', 'dlv_ + 16 hex characters')
  if (typeof id !== 'string') return id
  const body = parseBody(c, emptyBody)
  if (!body.ok) return body.response
  const changed = await change(c, 'webhooks.redeliver', { id })
  if (!changed.ok) return changed.response
  const { subscriptionId, eventId, payload, previousStatus } = changed.outcome.result
  try {
    await c.env.WEBHOOK_DISPATCHERS.get(c.env.WEBHOOK_DISPATCHERS.idFromName(subscriptionId)).enqueue(subscriptionId, [{ deliveryId: id, eventId, payload }])
  } catch (error) {
    logError(error, 'admin redeliver', c.get('requestId'))
    return adminError(c, 503, 'enqueue_failed', `Delivery ${id} is marked pending, but its dispatcher did not take it; retry`)
  }
  return c.json({ id, status: 'pending', previous_status: previousStatus, subscription_id: subscriptionId, event_id: eventId })
})
