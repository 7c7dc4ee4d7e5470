/**
 * POST /token: the library's token endpoint (authorization code and refresh grants, RFC 7009 revocation), with what
 * the gateway adds around it, all through the connection's key object (oauth/refresh-tokens.ts):
 *
 *   refresh_token  the connection must be live (revoked or expired: invalid_grant, and the grant is dropped), and
 *                  the token must not have been exchanged before (reuse: invalid_grant, the connection revoked, the
 *                  grant dropped, a token_reuse alert); then the library rotates it, and the new token is noted.
 *   authorization_code  the first refresh token of the grant is noted.
 *   revocation     a revoked refresh token ends the connection (the library drops the grant; D1 is marked).
 *
 * Every answer is the library's own (RFC 6749 §5.2 bodies, `invalid_client` 401 for a deleted client) except the
 * two refusals above, which use the same shape. The events are audited in the connection's chain.
 */
import type { Context } from 'hono'
import type { GatewayEnv } from '../http/types'
import { keyObject } from '../keys/placement'
import { sha256Hex } from '../lib/crypto'
import { logError } from '../log'
import { clientIdProblem } from './client-id-guard'
import { revokeConnection } from './connection-store'
import { auditConnectionEvent, type OAuthEvent } from './oauth-audit'
import { authorizationServer, parseConnectionToken, type OAuthSettings } from './server'

/** The longest an access token lives (connector profiles allow up to 24 h): a revoked one is remembered that long. */
const MAX_ACCESS_TOKEN_TTL_MS = 24 * 3600_000

const NO_STORE = { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', Pragma: 'no-cache' }

function tokenError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), { status, headers: NO_STORE })
}

/** The library's answer, with its body read (a Response body can be read once). */
async function readAnswer(response: Response): Promise<{ response: Response; json: Record<string, unknown> | null }> {
  const text = await response.text()
  let json: Record<string, unknown> | null = null
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    // Not JSON: passed on as is.
  }
  return { response: new Response(text, { status: response.status, headers: response.headers }), json }
}

/** The client id of an HTTP Basic client authentication (RFC 6749 §2.3.1: form-urlencoded), or null. */
function basicClientId(request: Request): string | null {
  const match = /^Basic\s+(\S+)$/i.exec(request.headers.get('authorization') ?? '')
  if (!match) return null
  try {
    const decoded = atob(match[1]!)
    return decodeURIComponent(decoded.slice(0, decoded.includes(':') ? decoded.indexOf(':') : undefined).replace(/\+/g, ' '))
  } catch {
    return null
  }
}

/** The `iss` of a client assertion JWT (private_key_jwt), unverified: only to check it before anything fetches it. */
function assertionIssuer(assertion: string | null): string | null {
  const payload = assertion?.split('.')[1]
  if (!payload) return null
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { iss?: unknown }
    return typeof claims.iss === 'string' ? claims.iss : null
  } catch {
    return null
  }
}

export async function tokenEndpoint(c: Context<GatewayEnv>, settings: OAuthSettings): Promise<Response> {
  const startedAt = Date.now()
  const server = authorizationServer(settings)
  const request = c.req.raw
  let form: FormData | null = null
  if ((request.headers.get('content-type') ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    try {
      form = await request.clone().formData()
    } catch {
      // The library answers a malformed body itself.
    }
  }
  const field = (name: string) => {
    const value = form?.get(name)
    return typeof value === 'string' ? value : null
  }
  // RFC 6749 §3.2: no parameter more than once. A parser that took the other copy than this check reads would see
  // another client id or token than the one checked here.
  const repeated = form ? [...new Set([...form.keys()])].find((name) => form!.getAll(name).length > 1) : undefined
  if (repeated !== undefined) return tokenError(400, 'invalid_request', `The parameter '${repeated.slice(0, 40)}' is sent more than once`)
  // The client id may also come in HTTP Basic or as a client assertion's issuer: every place the library reads one.
  const clientProblem = [field('client_id'), basicClientId(request), assertionIssuer(field('client_assertion'))].map(clientIdProblem).find(Boolean)
  if (clientProblem) return tokenError(401, 'invalid_client', clientProblem)

  const grantType = field('grant_type')
  const env = c.env
  const requestId = c.get('requestId')
  const audit = (connectionId: string, event: Omit<OAuthEvent, 'method'> & { method?: OAuthEvent['method'] }) =>
    c.executionCtx.waitUntil(
      auditConnectionEvent(env, request, requestId, startedAt, connectionId, { method: 'oauth/token', ...event }),
    )

  if (grantType === 'refresh_token') {
    const presented = field('refresh_token') ?? ''
    const parsed = parseConnectionToken(presented)
    // Not one of ours at all: the library refuses it.
    if (!parsed) return server.fetch(request, env, c.executionCtx)
    const hash = await sha256Hex(presented)
    const object = keyObject(env, parsed.connectionId)
    const claim = await object.claimRefreshToken(parsed.connectionId, hash)
    if (claim.verdict === 'no_connection') return server.fetch(request, env, c.executionCtx)
    if (claim.verdict === 'revoked' || claim.verdict === 'reused') {
      const grantId = claim.grantId ?? parsed.grantId
      c.executionCtx.waitUntil(server.getOAuthApi(env).revokeGrant(grantId, parsed.connectionId).catch((error) => logError(error, 'oauth revoke grant', requestId)))
      const reused = claim.verdict === 'reused'
      audit(parsed.connectionId, { outcome: 'denied', code: reused ? 'refresh_token_reused' : 'connection_not_active', httpStatus: 400 })
      return tokenError(
        400,
        'invalid_grant',
        reused
          ? 'This refresh token was already used, so the connection is revoked (a copy of it may have been stolen). Sign in again.'
          : 'This connection was revoked or has ended. Sign in again.',
      )
    }
    const { response, json } = await readAnswer(await server.fetch(request, env, c.executionCtx))
    const issued = response.ok && typeof json?.refresh_token === 'string' ? await sha256Hex(json.refresh_token) : null
    await object.settleRefreshToken(hash, issued)
    // Only the connection's own current token is recorded: a guessed token naming someone's connection is refused by
    // the library and leaves nothing in that connection's chain.
    if (response.ok) audit(parsed.connectionId, { outcome: 'ok', code: 'oauth_token_refreshed', httpStatus: 200 })
    else if (claim.verdict === 'claimed') audit(parsed.connectionId, { outcome: 'denied', code: String(json?.error ?? 'invalid_grant'), httpStatus: response.status })
    return response
  }

  if (grantType === 'authorization_code') {
    const { response, json } = await readAnswer(await server.fetch(request, env, c.executionCtx))
    const refreshToken = typeof json?.refresh_token === 'string' ? json.refresh_token : null
    const parsed = refreshToken ? parseConnectionToken(refreshToken) : null
    if (response.ok && parsed) {
      await keyObject(env, parsed.connectionId).noteFirstRefreshToken(await sha256Hex(refreshToken!))
      audit(parsed.connectionId, { outcome: 'ok', code: 'oauth_token_issued', httpStatus: 200 })
    }
    return response
  }

  // RFC 7009 revocation shares this endpoint: no grant_type, or an empty one (as the library reads it), and a `token`.
  const revoked = !grantType ? field('token') : null
  const parsed = revoked ? parseConnectionToken(revoked) : null
  // Whether it is a live access token, asked before the library deletes it: only those are remembered by the object.
  const liveAccessToken = parsed ? (await server.validateToken(settings.resource, revoked!, env)) !== null : false
  const response = await server.fetch(request, env, c.executionCtx)
  if (response.ok && parsed) {
    const object = keyObject(env, parsed.connectionId)
    if (await object.isRefreshToken(await sha256Hex(revoked!))) {
      await revokeConnection(env.DB, parsed.connectionId, 'client')
      await object.refresh(parsed.connectionId)
      audit(parsed.connectionId, { method: 'oauth/revoke', outcome: 'ok', code: 'connection_revoked_by_client', httpStatus: 200 })
    } else if (liveAccessToken) {
      // KV forgets the token at once here, but other locations may keep serving it for a while: the object refuses it.
      await object.revokeAccessToken(await sha256Hex(revoked!), Date.now() + MAX_ACCESS_TOKEN_TTL_MS)
      audit(parsed.connectionId, { method: 'oauth/revoke', outcome: 'ok', code: 'access_token_revoked', httpStatus: 200 })
    }
  }
  return response
}
