/**
 * The admin channel: how the CLI makes a key change take effect at once, everywhere (docs/KEY-LIFECYCLE.md).
 *
 *   POST /admin/keys/:id/refresh     → the key's Durable Object reloads the key from D1 now
 *   POST /admin/keys/:id/odoo-secret-replaced → the same, and a record of the change in the key's audit chain
 *   POST /admin/connections/:id/refresh → the same for an OAuth connection; a revoked one's grant is dropped from KV
 *   POST /admin/odoo/check-credentials → checks an Odoo login and secret against the gateway's Odoo (keys create)
 *   POST /admin/audit/heads          → the audit chain heads the objects hold, for `audit verify`
 *   POST /admin/webhooks/deliveries/:id/redeliver → queue a delivery again (same event id), e.g. a dead letter
 *
 * Requests are signed with ADMIN_SECRET (admin/signature.ts): the middleware below refuses anything else before any
 * route runs. The key and connection routes carry no key data: D1 stays the only source of truth, so even a forged or replayed call
 * could only make an object read D1 again. check-credentials is the one route whose body holds a secret (the Odoo
 * secret the CLI is about to store): it is never logged, stored or echoed, and a replay within the signature's
 * 5 minutes can only repeat the same check. Without ADMIN_SECRET the channel is off (503) and changes take effect
 * within KEY_CACHE_TTL_SECONDS.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { newAuditRecord } from '../audit/record'
import { clip } from '../audit/trail'
import { ConfigError, loadConfig, type GatewayConfig } from '../config'
import { clientAddress } from '../http/auth'
import { httpError } from '../http/errors'
import type { GatewayEnv } from '../http/types'
import { keyObject } from '../keys/placement'
import { logError } from '../log'
import { CONNECTION_ID } from '../oauth/connection-id'
import { authorizationServer, oauthSettings } from '../oauth/server'
import { checkOdooCredentials } from './odoo-credentials'
import { adminAuth } from './v1/auth'

const KEY_ID = /^key_[0-9a-f]{16}$/

export const adminRoutes = new Hono<GatewayEnv>()

// Transitional: these routes go away as their CLI commands move to /admin/v1 (same authentication).
adminRoutes.use(adminAuth() as unknown as MiddlewareHandler<GatewayEnv>)

adminRoutes.post('/keys/:id/refresh', async (c) => {
  const id = c.req.param('id')
  if (!KEY_ID.test(id)) return httpError(c, 400, 'invalid_key_id', `'${id.slice(0, 40)}' is not a key id (key_ + 16 hex characters)`)
  try {
    const result = await keyObject(c.env, id).refresh(id)
    if (!result.found) return httpError(c, 404, 'key_not_found', `No key ${id} in the database`)
    return c.json({ id, status: result.status, refreshed_at: new Date(result.loadedAt!).toISOString() })
  } catch (error) {
    logError(error, 'admin refresh', c.get('requestId'))
    return httpError(c, 503, 'refresh_failed', 'The key object could not reload the key from D1; it will within the key cache time')
  }
})

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

/** What the CLI says about a replaced Odoo secret: whether Odoo accepted it first, and the uid it answered. */
function parseSecretChange(text: string): { verified: boolean; odooUid: number | null } | undefined {
  try {
    const body = JSON.parse(text) as { verified?: unknown; odoo_uid?: unknown }
    const uid = body.odoo_uid ?? null
    if (typeof body.verified !== 'boolean' || (uid !== null && !(Number.isSafeInteger(uid) && (uid as number) > 0))) return undefined
    return { verified: body.verified, odooUid: uid as number | null }
  } catch {
    return undefined
  }
}

/**
 * `keys set-odoo-secret`: the CLI has written the new sealed secret to D1. The key's object reloads the key (the
 * change applies now) and appends a record of the change to the key's audit chain, hash-linked like its requests
 * (`audit search --key ID` shows it as admin/set-odoo-secret; the secret itself is in no record).
 */
adminRoutes.post('/keys/:id/odoo-secret-replaced', async (c) => {
  const id = c.req.param('id')
  if (!KEY_ID.test(id)) return httpError(c, 400, 'invalid_key_id', `'${id.slice(0, 40)}' is not a key id (key_ + 16 hex characters)`)
  const change = parseSecretChange(await c.req.text())
  if (!change) return httpError(c, 400, 'invalid_body', 'Send {"verified": true|false, "odoo_uid": N|null}')
  const row = await c.env.DB.prepare('SELECT name, prefix, odoo_login FROM api_keys WHERE id = ?1')
    .bind(id)
    .first<{ name: string; prefix: string; odoo_login: string }>()
  if (!row) return httpError(c, 404, 'key_not_found', `No key ${id} in the database`)
  const record = newAuditRecord({
    time: Date.now(),
    requestId: c.get('requestId'),
    keyId: id,
    keyName: row.name,
    keyPrefix: row.prefix,
    odooUser: row.odoo_login,
    // Made safe like every other record's client text (cut, control characters replaced).
    ip: clip(clientAddress(c.req.raw)),
    userAgent: clip(c.req.header('user-agent')),
    method: 'admin/set-odoo-secret',
    code: change.verified ? 'odoo_credentials_verified' : 'odoo_credentials_not_verified',
    httpStatus: 200,
  })
  try {
    const object = keyObject(c.env, id)
    const result = await object.refresh(id)
    if (!result.found) return httpError(c, 404, 'key_not_found', `No key ${id} in the database`)
    const seq = await object.appendAudit(record)
    return c.json({ id, status: result.status, refreshed_at: new Date(result.loadedAt!).toISOString(), audit_seq: seq })
  } catch (error) {
    logError(error, 'admin odoo secret replaced', c.get('requestId'))
    return httpError(c, 503, 'refresh_failed', 'The key object could not reload the key or record the change; the change applies within the key cache time')
  }
})

const LOGIN_MAX = 255
const SECRET_MAX = 4096

/**
 * Checks an Odoo login and secret against this gateway's Odoo, as a key session would use them, for `keys create`
 * and `keys set-odoo-secret` (admin/odoo-credentials.ts). Answers {ok: true, uid, protocol, login_checked}, or an
 * error: odoo_credentials_refused (Odoo refused them; JSON-RPC does not say whether the login or the secret is
 * wrong), odoo_login_mismatch (JSON-2: another user's API key), odoo_unavailable, odoo_error, odoo_not_configured.
 */
adminRoutes.post('/odoo/check-credentials', async (c) => {
  let login: unknown
  let secret: unknown
  try {
    ;({ login, secret } = JSON.parse(await c.req.text()) as { login?: unknown; secret?: unknown })
  } catch {
    // Never echo the body: it holds a secret.
  }
  if (typeof login !== 'string' || login.trim() === '' || login.length > LOGIN_MAX || typeof secret !== 'string' || secret === '' || secret.length > SECRET_MAX) {
    return httpError(c, 400, 'invalid_body', `Send {"login": "...", "secret": "..."} (login 1-${LOGIN_MAX}, secret 1-${SECRET_MAX} characters)`)
  }
  let config: GatewayConfig
  try {
    config = loadConfig(c.env)
  } catch (error) {
    if (error instanceof ConfigError) return httpError(c, 503, 'odoo_not_configured', `The gateway's Odoo settings are invalid: ${error.message}`)
    throw error
  }
  const oneSecret = secret
  // Odoo's messages never quote a password, but nothing that reaches the answer may hold it.
  const redact = (text: string) => text.split(oneSecret).join('[redacted]')
  let result: Awaited<ReturnType<typeof checkOdooCredentials>>
  try {
    result = await checkOdooCredentials({ config, credentials: { login, secret }, checkId: c.get('requestId') })
  } catch (error) {
    // Our own fault: logged without its message, which could in theory quote what was sent.
    logError(new Error(`credential check failed: ${error instanceof Error ? error.name : 'unknown error'}`), 'admin check credentials', c.get('requestId'))
    return httpError(c, 500, 'internal_error', `The credential check failed unexpectedly; request id ${c.get('requestId')}`)
  }
  switch (result.kind) {
    case 'ok':
      return c.json({ ok: true, uid: result.uid, protocol: result.protocol, login_checked: result.loginChecked })
    case 'refused':
      return httpError(
        c,
        422,
        'odoo_credentials_refused',
        result.protocol === 'json2'
          ? 'Odoo refused the secret: over JSON-2 it must be the user\'s Odoo API key (a password is not accepted there)'
          : 'Odoo refused the login or the secret (Odoo does not say which)',
      )
    case 'login_mismatch':
      return httpError(
        c,
        422,
        'odoo_login_mismatch',
        `Odoo accepted the secret, but it is the API key of Odoo user '${redact(result.actualLogin)}' (uid ${result.uid}), not of '${login}'`,
      )
    case 'unavailable':
      return httpError(c, 502, 'odoo_unavailable', `Odoo is unavailable: ${redact(result.message)}`)
    case 'odoo_error':
      return httpError(c, 502, 'odoo_error', `Odoo answered with an error: ${redact(result.message)}`)
  }
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
