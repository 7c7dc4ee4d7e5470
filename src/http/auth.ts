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
 * Every refusal of a presented key is a 401 of the same shape (`invalid_token`, RFC 6750 challenge) whose message
 * says what to do; the challenge carries the same message as `error_description`, for clients that show it. A
 * request without any Authorization header gets the bare challenge (`Bearer realm="odoo-mcp-edge"`) and a
 * `missing_token` body.
 */
import type { MiddlewareHandler } from 'hono'
import { refusalMessage } from '../gateway/admission-answers'
import { keyIdForHash } from '../keys/key-directory'
import { API_KEY_PREFIX, displayPrefix, parseApiKey } from '../keys/key-format'
import { sha256Hex } from '../lib/crypto'
import { logError } from '../log'
import { bearerChallenge, type BearerRefusal } from './bearer-challenge'
import { httpError } from './errors'
import type { GatewayEnv } from './types'

function challenge(refusal?: BearerRefusal): Record<string, string> {
  return { 'WWW-Authenticate': bearerChallenge(refusal) }
}

/** Something that looks like one of our keys, anywhere in the URL. */
const KEY_IN_URL = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{16,}`)

/** The client address: `CF-Connecting-IP` only (set by Cloudflare's edge; X-Forwarded-For and friends are ignored). */
export function clientAddress(request: Request): string | undefined {
  return request.headers.get('cf-connecting-ip') ?? undefined
}

function unauthorized(c: Parameters<MiddlewareHandler<GatewayEnv>>[0], message: string): Response {
  return httpError(c, 401, 'invalid_token', message, challenge({ error: 'invalid_token', description: message }))
}

/** Finds the key a request presents (`keyRef`), or refuses the request: no key, a malformed one, or none such. */
export function identifyKey(): MiddlewareHandler<GatewayEnv> {
  return async function identifyKey(c, next) {
    // A key in the URL ends up in proxy and server logs: refuse it loudly so it gets rotated.
    if (KEY_IN_URL.test(c.req.url)) {
      return httpError(c, 400, 'key_in_url', 'API keys must be sent in the Authorization header, never in the URL; rotate this key')
    }
    const header = c.req.header('authorization')
    if (!header) {
      return httpError(c, 401, 'missing_token', 'Send the API key as "Authorization: Bearer omk_..."', challenge())
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    if (!match) return unauthorized(c, 'The Authorization header must be "Bearer <API key>"')
    const parsed = parseApiKey(match[1]!)
    if (!parsed.ok) {
      // Our own format only, and no more of it than the display prefix: anything else might be someone's secret.
      if (match[1]!.startsWith(API_KEY_PREFIX) && match[1]!.length >= 12) c.get('audit')?.presentedPrefix(match[1]!.slice(0, 12))
      c.get('audit')?.outcome('denied', 'malformed_key')
      return unauthorized(c, 'The API key is malformed (wrong format or checksum): check it was copied completely')
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
