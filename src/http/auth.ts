/**
 * Bearer authentication at the edge: every POST /mcp passes here before its body is read.
 *
 *   header shape → key format and checksum (no I/O: a typo or a random string never reaches D1 or an object)
 *   → SHA-256 → key id (keys/key-directory.ts: per-isolate map, D1 on a miss)
 *
 * What remains — is the secret current, is the key revoked, expired or rotated, may this client address use it, is
 * it within its rate limits — is decided by the key's Durable Object, in the one call the edge makes to it per request
 * (gateway/key-call.ts, http/key-object-call.ts); its refusals are built there (gateway/admission-answers.ts).
 *
 * With OAuth on (PUBLIC_URL, oauth/server.ts), the header may instead carry an OAuth access token of a connection
 * (`con_…:<grant>:<secret>`): its shape is checked offline, then the library validates it (hashed lookup in KV,
 * audience = this /mcp), and the connection's object decides the rest exactly as for a key (revoked, expired, IP,
 * rate limits). The token never goes further than this: the object acts with the connection's own Odoo secret.
 *
 * Every refusal of a presented key is a 401 of the same shape (`invalid_token`, RFC 6750 challenge) whose message
 * says what to do; the challenge carries the same message as `error_description`, for clients that show it. A
 * request without any Authorization header gets the bare challenge (`Bearer realm="odoo-mcp-edge"`) and a
 * `missing_token` body; with OAuth on, that challenge and those of refused OAuth tokens also say where to sign in
 * (`resource_metadata`, RFC 9728), which is how Claude, ChatGPT and other OAuth clients start.
 */
import type { MiddlewareHandler } from 'hono'
import { refusalMessage } from '../gateway/admission-answers'
import { keyIdForHash } from '../keys/key-directory'
import { API_KEY_PREFIX, displayPrefix, parseApiKey } from '../keys/key-format'
import { sha256Hex } from '../lib/crypto'
import { logError } from '../log'
import { connectionPrefix } from '../oauth/connection-id'
import { grantCredential } from '../oauth/connection-store'
import { authorizationServer, oauthSettings, OAUTH_SCOPE, parseConnectionToken, type OAuthSettings } from '../oauth/server'
import { bearerChallenge, type BearerRefusal, type SignInHint } from './bearer-challenge'
import { httpError } from './errors'
import type { GatewayEnv } from './types'

function challenge(refusal?: BearerRefusal, signIn?: SignInHint): Record<string, string> {
  return { 'WWW-Authenticate': bearerChallenge(refusal, signIn) }
}

const hintOf = (settings: OAuthSettings | null): SignInHint | undefined =>
  settings ? { resourceMetadataUrl: settings.resourceMetadataUrl, scope: OAUTH_SCOPE } : undefined

/** Something that looks like one of our keys, anywhere in the URL. */
const KEY_IN_URL = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{16,}`)

/** The client address: `CF-Connecting-IP` only (set by Cloudflare's edge; X-Forwarded-For and friends are ignored). */
export function clientAddress(request: Request): string | undefined {
  return request.headers.get('cf-connecting-ip') ?? undefined
}

type C = Parameters<MiddlewareHandler<GatewayEnv>>[0]

function unauthorized(c: C, message: string, signIn?: SignInHint): Response {
  return httpError(c, 401, 'invalid_token', message, challenge({ error: 'invalid_token', description: message }, signIn))
}

/** An OAuth access token: valid for this resource, and its connection's object decides the rest. */
async function identifyConnection(c: C, token: string, settings: OAuthSettings, next: () => Promise<void>): Promise<Response | void> {
  const parsed = parseConnectionToken(token)!
  c.get('audit')?.presentedPrefix(connectionPrefix(parsed.connectionId))
  let validated: Awaited<ReturnType<ReturnType<typeof authorizationServer>['validateToken']>>
  try {
    validated = await authorizationServer(settings).validateToken(settings.resource, token, c.env)
  } catch (error) {
    logError(error, 'oauth token store', c.get('requestId'))
    return httpError(c, 503, 'key_service_unavailable', 'The gateway cannot check this access token right now (the token store is unreachable); retry shortly', {
      'Retry-After': '1',
    })
  }
  if (!validated || validated.userId !== parsed.connectionId) {
    c.get('audit')?.outcome('denied', 'invalid_oauth_token')
    return unauthorized(c, 'The access token is not valid (expired, revoked, or issued for another server): refresh it or sign in again', hintOf(settings))
  }
  c.set('keyRef', {
    keyId: parsed.connectionId,
    keyHash: grantCredential(parsed.grantId),
    clientAddress: clientAddress(c.req.raw),
    tokenHash: await sha256Hex(token),
  })
  return next()
}

/** Finds the key a request presents (`keyRef`), or refuses the request: no key, a malformed one, or none such. */
export function identifyKey(): MiddlewareHandler<GatewayEnv> {
  return async function identifyKey(c, next) {
    // A key in the URL ends up in proxy and server logs: refuse it loudly so it gets rotated.
    if (KEY_IN_URL.test(c.req.url)) {
      return httpError(c, 400, 'key_in_url', 'API keys must be sent in the Authorization header, never in the URL; rotate this key')
    }
    const settings = oauthSettings(c.env)
    const header = c.req.header('authorization')
    if (!header) {
      const how = settings ? 'Sign in with OAuth (see WWW-Authenticate), or send an API key' : 'Send the API key'
      return httpError(c, 401, 'missing_token', `${how} as "Authorization: Bearer omk_..."`, challenge(undefined, hintOf(settings)))
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    if (!match) return unauthorized(c, 'The Authorization header must be "Bearer <API key>"', hintOf(settings))
    if (settings && parseConnectionToken(match[1]!)) return identifyConnection(c, match[1]!, settings, next)
    const parsed = parseApiKey(match[1]!)
    if (!parsed.ok) {
      // Our own format only, and no more of it than the display prefix: anything else might be someone's secret.
      if (match[1]!.startsWith(API_KEY_PREFIX) && match[1]!.length >= 12) c.get('audit')?.presentedPrefix(match[1]!.slice(0, 12))
      c.get('audit')?.outcome('denied', 'malformed_key')
      // Not one of our keys: perhaps an OAuth client's stale or foreign token, which signing in again replaces.
      const signIn = match[1]!.startsWith(API_KEY_PREFIX) ? undefined : hintOf(settings)
      return unauthorized(c, 'The API key is malformed (wrong format or checksum): check it was copied completely', signIn)
    }
    c.get('audit')?.presentedPrefix(displayPrefix(parsed.key))

    const keyHash = await sha256Hex(parsed.key)
    let keyId: string | null
    try {
      keyId = await keyIdForHash(c.env.DB, keyHash)
    } catch (error) {
      logError(error, 'key directory', c.get('requestId'))
      return httpError(c, 503, 'key_service_unavailable', 'The gateway cannot check this API key right now (the key store is unreachable); retry shortly', {
        'Retry-After': '1',
      })
    }
    if (keyId === null) {
      c.get('audit')?.outcome('denied', 'unknown_key')
      return unauthorized(c, refusalMessage('unknown', undefined))
    }
    c.set('keyRef', { keyId, keyHash, clientAddress: clientAddress(c.req.raw) })
    return next()
  }
}
