/**
 * The admin channel: how the CLI makes a key change take effect at once, everywhere (docs/KEY-LIFECYCLE.md).
 *
 *   POST /admin/keys/:id/refresh     → the key's Durable Object reloads the key from D1 now
 *   POST /admin/audit/heads          → the audit chain heads the objects hold, for `audit verify`
 *   POST /admin/webhooks/deliveries/:id/redeliver → queue a delivery again (same event id), e.g. a dead letter
 *
 * Requests are signed with ADMIN_SECRET (admin/signature.ts). The route carries no data: D1 stays the only source
 * of truth, so even a forged or replayed call could only make an object read D1 again. Without ADMIN_SECRET the
 * channel is off (503) and changes take effect within KEY_CACHE_TTL_SECONDS.
 */
import { Hono } from 'hono'
import { httpError } from '../http/errors'
import type { GatewayEnv } from '../http/types'
import { logError } from '../log'
import { ADMIN_SECRET_MIN_LENGTH, verifyAdminRequest } from './signature'

const KEY_ID = /^key_[0-9a-f]{16}$/

export const adminRoutes = new Hono<GatewayEnv>()

adminRoutes.use(async (c, next) => {
  const secret = c.env.ADMIN_SECRET
  if (!secret || secret.length < ADMIN_SECRET_MIN_LENGTH) {
    return httpError(c, 503, 'admin_disabled', `The admin channel is off: ADMIN_SECRET is not set (or shorter than ${ADMIN_SECRET_MIN_LENGTH} characters)`)
  }
  const body = await c.req.text()
  const verdict = await verifyAdminRequest(secret, c.req.raw.headers, c.req.method, new URL(c.req.url).pathname, body)
  if (verdict === 'missing') return httpError(c, 401, 'admin_unsigned', 'Admin requests must carry X-Admin-Timestamp and X-Admin-Signature')
  if (verdict === 'stale') return httpError(c, 401, 'admin_stale', 'X-Admin-Timestamp is more than 5 minutes away from the gateway clock')
  if (verdict === 'bad_signature') return httpError(c, 401, 'admin_bad_signature', 'The admin signature does not match (wrong ADMIN_SECRET?)')
  return next()
})

adminRoutes.post('/keys/:id/refresh', async (c) => {
  const id = c.req.param('id')
  if (!KEY_ID.test(id)) return httpError(c, 400, 'invalid_key_id', `'${id.slice(0, 40)}' is not a key id (key_ + 16 hex characters)`)
  try {
    const result = await c.env.KEY_OBJECTS.get(c.env.KEY_OBJECTS.idFromName(id)).refresh(id)
    if (!result.found) return httpError(c, 404, 'key_not_found', `No key ${id} in the database`)
    return c.json({ id, status: result.status, refreshed_at: new Date(result.loadedAt!).toISOString() })
  } catch (error) {
    logError(error, 'admin refresh', c.get('requestId'))
    return httpError(c, 503, 'refresh_failed', 'The key object could not reload the key from D1; it will within the key cache time')
  }
})

const CHAIN_ID = /^(key_[0-9a-f]{16}|anon-\d{1,3})$/
const MAX_CHAINS = 1_000

/**
 * The head of each audit chain as its object knows it (seq and hash of the last record D1 acknowledged, and how
 * many wait in the outbox). `audit verify` compares them with D1's last rows: a truncated or consistently rewritten
 * tail, invisible to the chain alone, shows here.
 */
adminRoutes.post('/audit/heads', async (c) => {
  let chains: unknown
  try {
    chains = (JSON.parse(await c.req.text()) as { chains?: unknown }).chains
  } catch {
    return httpError(c, 400, 'invalid_body', 'Send {"chains": ["key_...", "anon-0", ...]}')
  }
  if (!Array.isArray(chains) || chains.length > MAX_CHAINS || !chains.every((chain) => typeof chain === 'string' && CHAIN_ID.test(chain))) {
    return httpError(c, 400, 'invalid_body', `"chains" must list up to ${MAX_CHAINS} chain ids (key_... or anon-N)`)
  }
  try {
    const heads = await Promise.all(
      (chains as string[]).map((chain) =>
        chain.startsWith('anon-')
          ? c.env.UNAUTHENTICATED_AUDIT.get(c.env.UNAUTHENTICATED_AUDIT.idFromName(chain)).auditHead()
          : c.env.KEY_OBJECTS.get(c.env.KEY_OBJECTS.idFromName(chain)).auditHead(),
      ),
    )
    return c.json({ heads: (chains as string[]).map((chain, index) => ({ ...heads[index], chainId: chain })) })
  } catch (error) {
    logError(error, 'admin audit heads', c.get('requestId'))
    return httpError(c, 503, 'heads_unavailable', 'Could not read the audit chain heads; retry shortly')
  }
})

adminRoutes.post('/webhooks/deliveries/:id/redeliver', async (c) => {
  const id = c.req.param('id')
  if (!/^dlv_[0-9a-f]{16}$/.test(id)) return httpError(c, 400, 'invalid_delivery_id', 'Delivery ids look like dlv_ + 16 hex characters')
  const delivery = await c.env.DB.prepare(
    `SELECT d.id, d.subscription_id, d.event_id, d.payload, s.disabled_at FROM webhook_deliveries d
       JOIN webhook_subscriptions s ON s.id = d.subscription_id WHERE d.id = ?1`,
  )
    .bind(id)
    .first<{ id: string; subscription_id: string; event_id: string; payload: string; disabled_at: number | null }>()
  if (!delivery) return httpError(c, 404, 'delivery_not_found', `No delivery ${id}`)
  if (delivery.disabled_at !== null) return httpError(c, 409, 'subscription_disabled', 'The subscription is disabled; add a new one to deliver again')
  await c.env.DB.prepare("UPDATE webhook_deliveries SET status = 'pending', updated_at = ?1 WHERE id = ?2").bind(Date.now(), id).run()
  await c.env.WEBHOOK_DISPATCHERS.get(c.env.WEBHOOK_DISPATCHERS.idFromName(delivery.subscription_id)).enqueue(delivery.subscription_id, [
    { deliveryId: delivery.id, eventId: delivery.event_id, payload: delivery.payload },
  ])
  return c.json({ id, status: 'pending' })
})

adminRoutes.all('*', (c) => httpError(c, 404, 'not_found', 'Unknown admin route; see docs/KEY-LIFECYCLE.md'))
