/**
 * What is left of the first admin channel, until the commands using it move to the admin API (docs/ADMIN-API.md):
 *   POST /admin/connections/:id/refresh → a connection's object reloads; a revoked one's grant is dropped from KV
 *   POST /admin/audit/heads             → the audit chain heads the objects hold, for `audit verify`
 *   POST /admin/webhooks/deliveries/:id/redeliver → queue a delivery again (same event id)
 * Same authentication as the admin API (signatures with single-use nonces, Access, ADMIN_ALLOWED_IPS).
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { httpError } from '../http/errors'
import type { GatewayEnv } from '../http/types'
import { keyObject } from '../keys/placement'
import { logError } from '../log'
import { CONNECTION_ID } from '../oauth/connection-id'
import { authorizationServer, oauthSettings } from '../oauth/server'
import { adminAuth } from './v1/auth'


export const adminRoutes = new Hono<GatewayEnv>()

// Transitional: these routes go away as their CLI commands move to /admin/v1 (same authentication).
adminRoutes.use(adminAuth() as unknown as MiddlewareHandler<GatewayEnv>)

/**
 * `connections revoke` and `connectors remove`: the CLI has revoked the connection in D1. Its object reloads it, so
 * its access tokens are refused from the next request; the OAuth grant in KV is dropped too, so its refresh token
 * can no longer even reach the object and the grant does not linger until its tokens expire. The grant id is read
 * from D1, never taken from the request.
 */
adminRoutes.post('/connections/:id/refresh', async (c) => {
  const id = c.req.param('id')
  if (!CONNECTION_ID.test(id)) {
    return httpError(c, 400, 'invalid_connection_id', `'${id.slice(0, 40)}' is not a connection id (con_ + 16 hex characters)`)
  }
  const result = await keyObject(c.env, id)
    .refresh(id)
    .catch((error: unknown) => logError(error, 'admin connection refresh', c.get('requestId')))
  if (!result) return httpError(c, 503, 'refresh_failed', 'The connection object could not reload the connection from D1; it will within the key cache time')
  if (!result.found) return httpError(c, 404, 'connection_not_found', `No connection ${id} in the database`)
  const refreshedAt = new Date(result.loadedAt!).toISOString()
  // A misconfigured PUBLIC_URL throws here: the ConfigError answer (index.ts) is the right one for it.
  const settings = oauthSettings(c.env)
  if (result.status !== 'revoked' || !settings) return c.json({ id, status: result.status, refreshed_at: refreshedAt, grant_revoked: false })
  try {
    const row = await c.env.DB.prepare('SELECT grant_id FROM connections WHERE id = ?1').bind(id).first<{ grant_id: string }>()
    if (row) await authorizationServer(settings).getOAuthApi(c.env).revokeGrant(row.grant_id, id)
  } catch (error) {
    logError(error, 'admin connection revoke grant', c.get('requestId'))
    return httpError(
      c,
      503,
      'grant_revoke_failed',
      "The connection is revoked and refused from now on, but its OAuth grant could not be dropped from KV; retry (its tokens expire on their own)",
    )
  }
  return c.json({ id, status: result.status, refreshed_at: refreshedAt, grant_revoked: true })
})

/** A key's or a connection's chain (both live in a key object), or one of the unauthenticated chains. */
const CHAIN_ID = /^(key_[0-9a-f]{16}|con_[0-9a-f]{16}|anon-\d{1,3})$/
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
    return httpError(c, 400, 'invalid_body', 'Send {"chains": ["key_...", "con_...", "anon-0", ...]}')
  }
  if (!Array.isArray(chains) || chains.length > MAX_CHAINS || !chains.every((chain) => typeof chain === 'string' && CHAIN_ID.test(chain))) {
    return httpError(c, 400, 'invalid_body', `"chains" must list up to ${MAX_CHAINS} chain ids (key_..., con_... or anon-N)`)
  }
  try {
    const heads = await Promise.all(
      (chains as string[]).map((chain) =>
        chain.startsWith('anon-')
          ? c.env.UNAUTHENTICATED_AUDIT.get(c.env.UNAUTHENTICATED_AUDIT.idFromName(chain)).auditHead()
          : keyObject(c.env, chain).auditHead(),
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
