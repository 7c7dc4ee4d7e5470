/**
 * Inbound webhooks from Odoo: `POST /hooks/odoo/<source>/<token>[?event=write]`, the URL pasted into an Odoo 17+
 * automation rule's "Send Webhook Notification" action (Odoo sends no custom headers, so the source's secret token is
 * part of the URL; it is compared by its SHA-256, never stored). The body is Odoo's JSON: `_model`, `_id`,
 * `_action` and the fields chosen in the rule. The event name comes from `?event=` (one rule per trigger, e.g.
 * `?event=create`), default `change`.
 *
 * For each active subscription to that model and event, the payload is cut down to the subscription's field
 * allowlist and its masked fields are masked (keyed per subscription; before anything is stored, so no delivery row,
 * attempt or redelivery holds a clear value), a delivery is logged in D1 and queued in the subscription's dispatcher object; Odoo gets 202 once every
 * queue holds it. Every request is audited (refused ones included) like /mcp requests.
 */
import { Hono } from 'hono'
import { httpError } from '../http/errors'
import type { GatewayEnv } from '../http/types'
import { maskHashKey, sha256Hex } from '../lib/crypto'
import { createMaskHasher, maskValue, type MaskKind } from '../policy/masks'
import { bytesToHex } from '../lib/encoding'
import { logError } from '../log'
import { isSensitiveField } from '../policy/sensitive'
import { subscriptionsFor } from './subscriptions'

const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/
const TOKEN = /^[A-Za-z0-9_-]{32,128}$/
const EVENT = /^[a-z][a-z0-9_]{0,31}$/
const MODEL = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$/
const MAX_BODY_BYTES = 1024 * 1024

const randomId = (prefix: string) => `${prefix}_${bytesToHex(crypto.getRandomValues(new Uint8Array(8)))}`

/**
 * The last answer D1 gave for a lookup, per isolate, used only when D1 fails: Odoo does not retry a webhook, so while
 * D1 is down an event for a known source is still taken (the source's token and the subscriptions as last read).
 * When D1 answers, its answer is used and remembered.
 */
const lastKnown = new Map<string, unknown>()
const MAX_LAST_KNOWN = 1_000

async function readOrLastKnown<T>(cacheKey: string, read: () => Promise<T>): Promise<T> {
  try {
    const value = await read()
    lastKnown.delete(cacheKey)
    if (lastKnown.size >= MAX_LAST_KNOWN) lastKnown.delete(lastKnown.keys().next().value!)
    lastKnown.set(cacheKey, value)
    return value
  } catch (error) {
    if (lastKnown.has(cacheKey)) return lastKnown.get(cacheKey) as T
    throw error
  }
}


/**
 * A subscription's masks applied to its payload (src/policy/masks.ts); `hash` is keyed per subscription, so a
 * receiver can match equal values but not reverse them, nor join them with another subscription's or key's.
 */
export async function maskPayload(data: Record<string, unknown>, subscription: { id: string; mask?: Record<string, MaskKind> }, credentialsKey: string): Promise<Record<string, unknown>> {
  const masks = Object.entries(subscription.mask ?? {}).filter(([field]) => Object.hasOwn(data, field))
  if (masks.length === 0) return data
  const hasher = masks.some(([, kind]) => kind === 'hash') ? createMaskHasher(await maskHashKey(credentialsKey, subscription.id)) : async () => ''
  const masked = { ...data }
  for (const [field, kind] of masks) masked[field] = await maskValue(masked[field], kind, hasher)
  return masked
}

/** The record's fields a subscription may see: its list, or every field but the sensitive ones for "*". */
export function filterFields(record: Record<string, unknown>, allowed: '*' | string[]): Record<string, unknown> {
  const data: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(record)) {
    if (field.startsWith('_')) continue
    if (allowed === '*' ? !isSensitiveField(field) : allowed.includes(field)) data[field] = value
  }
  return data
}

export const webhookRoutes = new Hono<GatewayEnv>()

webhookRoutes.post('/odoo/:source/:token', async (c) => {
  const audit = c.get('audit')
  audit.record.method = 'webhook/odoo'
  const { source, token } = c.req.param()
  const refuse = () => {
    audit.outcome('denied', 'invalid_webhook_token')
    return httpError(c, 401, 'invalid_webhook_token', 'Unknown webhook source or wrong token')
  }
  if (!SOURCE_NAME.test(source) || !TOKEN.test(token)) return refuse()
  const unavailable = (error: unknown) => {
    logError(error, 'webhook lookup', c.get('requestId'))
    return httpError(c, 503, 'webhook_queue_unavailable', 'The event could not be queued right now; it was not accepted', { 'Retry-After': '5' })
  }
  let row: { token_hash: string } | null
  try {
    row = await readOrLastKnown(`source:${source}`, () =>
      c.env.DB.prepare('SELECT token_hash FROM webhook_sources WHERE name = ?1 AND revoked_at IS NULL').bind(source).first<{ token_hash: string }>(),
    )
  } catch (error) {
    return unavailable(error)
  }
  // Comparing hashes: a timing difference says nothing about the token itself.
  if (!row || row.token_hash !== (await sha256Hex(token))) return refuse()
  audit.record.keyName = `source:${source}`

  const event = c.req.query('event') ?? 'change'
  if (!EVENT.test(event)) return httpError(c, 400, 'invalid_event', '?event= must be a lowercase name such as create, write or unlink')
  const text = await c.req.text()
  if (text.length > MAX_BODY_BYTES) return httpError(c, 413, 'payload_too_large', 'Webhook bodies are limited to 1 MiB')
  let body: Record<string, unknown>
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {
    return httpError(c, 400, 'invalid_json', 'The body must be the JSON Odoo sends (with _model and _id)')
  }
  const model = body?._model
  const recordId = body?._id
  if (typeof model !== 'string' || !MODEL.test(model) || typeof recordId !== 'number' || !Number.isInteger(recordId)) {
    return httpError(c, 400, 'invalid_payload', 'The body must carry "_model" (a model name) and "_id" (a record id), as Odoo sends them')
  }
  audit.record.model = model
  audit.record.operation = event
  audit.record.recordIds = [recordId]

  let subscriptions: Awaited<ReturnType<typeof subscriptionsFor>>
  try {
    subscriptions = await readOrLastKnown(`subscriptions:${model}:${event}`, () => subscriptionsFor(c.env, model, event))
  } catch (error) {
    return unavailable(error)
  }
  const eventId = randomId('evt')
  const now = Date.now()
  const deliveries = await Promise.all(subscriptions.map(async (subscription) => {
    const payload = JSON.stringify({
      id: eventId,
      type: `odoo.${event}`,
      source,
      model,
      recordId,
      event,
      odooAction: typeof body._action === 'string' ? body._action : null,
      time: new Date(now).toISOString(),
      // Masked before anything is stored: the delivery row and every (re)delivery carry the masked value only.
      data: await maskPayload(filterFields(body, subscription.fields), subscription, c.env.CREDENTIALS_KEY),
    })
    return { subscriptionId: subscription.id, deliveryId: randomId('dlv'), eventId, payload }
  }))
  if (deliveries.length > 0) {
    try {
      await c.env.DB.batch(
        deliveries.map((delivery) =>
          c.env.DB.prepare(
            `INSERT INTO webhook_deliveries (id, subscription_id, event_id, payload, status, attempts, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5)`,
          ).bind(delivery.deliveryId, delivery.subscriptionId, eventId, delivery.payload, now),
        ),
      )
    } catch (error) {
      // The queue below is what delivers; the dispatcher writes the delivery's row with its first attempt's log.
      logError(error, 'webhook delivery row', c.get('requestId'))
    }
  }
  try {
    await Promise.all(
      deliveries.map((delivery) =>
        c.env.WEBHOOK_DISPATCHERS.get(c.env.WEBHOOK_DISPATCHERS.idFromName(delivery.subscriptionId)).enqueue(delivery.subscriptionId, [delivery]),
      ),
    )
  } catch (error) {
    logError(error, 'webhook enqueue', c.get('requestId'))
    // Odoo retries nothing by itself, but a 5xx is visible in its logs; nothing was half-acknowledged.
    return httpError(c, 503, 'webhook_queue_unavailable', 'The event could not be queued; it was not accepted', { 'Retry-After': '5' })
  }
  return c.json({ accepted: true, eventId, deliveries: deliveries.length }, 202)
})

webhookRoutes.all('*', (c) => httpError(c, 404, 'not_found', 'Webhook URLs look like POST /hooks/odoo/<source>/<token>'))
