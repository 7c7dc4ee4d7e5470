/**
 * Bearer authentication with the gateway's own API keys.
 *
 * Order of checks: header shape → key format and checksum (no I/O: a typo or a random string never reaches D1) →
 * SHA-256 → one indexed D1 lookup → status. Unknown, revoked and expired keys take the same path (lookup, then a
 * comparison of timestamps) and get the same answer, so neither the body nor the timing tells them apart. A
 * malformed key is answered sooner, but that only tells the caller what the public format already does.
 */
import type { MiddlewareHandler } from 'hono'
import { findKeyByHash, keyStatus, touchLastUsed } from '../keys/key-store'
import { API_KEY_PREFIX, parseApiKey } from '../keys/key-format'
import { sha256Hex } from '../lib/crypto'
import { httpError } from './errors'
import type { GatewayEnv } from './types'

/** RFC 6750 challenge; `error` is added where the spec asks for it. */
function challenge(error?: string): Record<string, string> {
  return { 'WWW-Authenticate': error ? `Bearer realm="odoo-mcp-edge", error="${error}"` : 'Bearer realm="odoo-mcp-edge"' }
}

/** Something that looks like one of our keys, anywhere in the URL. */
const KEY_IN_URL = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{16,}`)

const INVALID_KEY_MESSAGE = 'The API key is not valid: it is unknown, revoked or expired'

export function bearerAuth(): MiddlewareHandler<GatewayEnv> {
  return async function bearerAuth(c, next) {
    // A key in the URL ends up in proxy and server logs: refuse it loudly so it gets rotated.
    if (KEY_IN_URL.test(c.req.url)) {
      return httpError(c, 400, 'key_in_url', 'API keys must be sent in the Authorization header, never in the URL; rotate this key')
    }
    const header = c.req.header('authorization')
    if (!header) {
      return httpError(c, 401, 'missing_token', 'Send the API key as "Authorization: Bearer omk_..."', challenge())
    }
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
    if (!match) {
      return httpError(c, 401, 'invalid_token', 'The Authorization header must be "Bearer <API key>"', challenge('invalid_token'))
    }
    const parsed = parseApiKey(match[1]!)
    if (!parsed.ok) {
      return httpError(
        c,
        401,
        'invalid_token',
        'The API key is malformed (wrong format or checksum): check it was copied completely',
        challenge('invalid_token'),
      )
    }
    const key = await findKeyByHash(c.env.DB, await sha256Hex(parsed.key))
    const now = Date.now()
    if (!key || keyStatus(key, now) !== 'active') {
      return httpError(c, 401, 'invalid_token', INVALID_KEY_MESSAGE, challenge('invalid_token'))
    }
    c.set('apiKey', key)
    c.executionCtx.waitUntil(touchLastUsed(c.env.DB, key, now).catch((error) => console.error('last_used_at update failed', error)))
    return next()
  }
}
