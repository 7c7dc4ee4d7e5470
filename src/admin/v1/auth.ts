/**
 * Who may use the admin API (docs/ADMIN-API.md "Authentication"), checked before any route:
 *   1. the API is on (ADMIN_SECRET and/or Cloudflare Access configured; admin/v1/settings.ts);
 *   2. the client address is in ADMIN_ALLOWED_IPS, when set;
 *   3. not a browser's cross-site request (Origin, Sec-Fetch-Site); the body is at most 1 MiB (read only for requests
 *      that carry credentials), JSON (Content-Type), and UTF-8 (checked once the request is authenticated);
 *   4. a valid Cloudflare Access token (when Access is configured and the header is present), or a v2 signature
 *      under ADMIN_SECRET whose nonce was never used before (admin/signature.ts, admin/v1/ledger.ts).
 * The actor (who, and how) is set for the routes and the admin log. Refusals say which step failed, never why a
 * signature failed beyond "does not match" (that would help a forger).
 */
import type { MiddlewareHandler } from 'hono'
import { clientAddress } from '../../http/auth'
import { logError } from '../../log'
import { checkClientAddress } from '../../policy/ip-rules'
import { ADMIN_MAX_SKEW_SECONDS, verifyAdminRequest } from '../signature'
import { verifyAccessToken } from './access'
import { adminError, type AdminApiEnv } from './http'
import { adminLedger } from './ledger'
import { adminSettings } from './settings'

export const ADMIN_BODY_LIMIT = 1024 * 1024
const ACCESS_HEADER = 'cf-access-jwt-assertion'
/** Fatal: malformed UTF-8 is refused, not replaced; a BOM is kept (and so is not JSON). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

function isJsonContentType(header: string | undefined): boolean {
  return header !== undefined && header.split(';')[0]!.trim().toLowerCase() === 'application/json'
}

export function adminAuth(): MiddlewareHandler<AdminApiEnv> {
  return async (c, next) => {
    const settings = adminSettings(c.env)
    if (settings.kind === 'off') {
      return adminError(c, 503, 'admin_disabled', 'The admin API is off: set ADMIN_SECRET (signed requests) and/or ACCESS_TEAM_DOMAIN and ACCESS_AUD (Cloudflare Access)')
    }
    if (settings.kind === 'misconfigured') return adminError(c, 503, 'admin_misconfigured', `The admin API is off: ${settings.message}`)

    const address = clientAddress(c.req.raw)
    if (settings.allowedIps && checkClientAddress({ allow: settings.allowedIps, deny: [] }, address) !== 'allowed') {
      return adminError(c, 403, 'admin_ip_not_allowed', `The admin API does not answer ${address ? `address ${address}` : 'requests without a client address'} (ADMIN_ALLOWED_IPS)`)
    }

    // Nothing is read (not even the body) for a request that carries no credentials at all.
    const accessToken = settings.access ? c.req.header(ACCESS_HEADER) : undefined
    const signed = c.req.header('x-admin-signature') !== undefined || c.req.header('x-admin-timestamp') !== undefined
    if (!accessToken && !signed) {
      const ways = [settings.secret ? 'a request signed with ADMIN_SECRET (the odoo-mcp CLI)' : '', settings.access ? 'a Cloudflare Access token (Cf-Access-Jwt-Assertion)' : '']
      return adminError(c, 401, 'admin_unauthenticated', `The admin API needs ${ways.filter(Boolean).join(' or ')}`)
    }
    // A browser on another site can send a "simple" request (text/plain, no preflight) carrying the Access cookie,
    // which Access turns into a valid token: such requests are refused whatever they carry (the CLI sends neither
    // header; a browser console is same-origin).
    const site = c.req.header('sec-fetch-site')
    const origin = c.req.header('origin')
    if ((site !== undefined && site !== 'same-origin' && site !== 'none') || (origin !== undefined && origin !== new URL(c.req.url).origin)) {
      return adminError(c, 403, 'admin_cross_origin', 'The admin API answers only its own origin and non-browser clients (Origin / Sec-Fetch-Site)')
    }
    // The size limit itself is enforced while reading (bodyLimit in admin/v1/index.ts answers 413).
    const body = new Uint8Array(await c.req.arrayBuffer())
    if (body.byteLength > 0 && !isJsonContentType(c.req.header('content-type'))) {
      return adminError(c, 415, 'unsupported_media_type', 'Admin request bodies are JSON: send Content-Type: application/json')
    }
    const proceed = () => {
      let text: string
      try {
        text = strictUtf8.decode(body)
      } catch {
        return adminError(c, 400, 'invalid_json', 'The body is not UTF-8 text')
      }
      c.set('adminBody', text)
      return next()
    }

    if (accessToken && settings.access) {
      const verdict = await verifyAccessToken(accessToken, settings.access)
      if (!verdict.ok) {
        if (verdict.unavailable) return adminError(c, 503, 'access_keys_unavailable', `Cannot check the Cloudflare Access token: ${verdict.reason}; retry shortly`)
        return adminError(c, 401, 'admin_access_denied', `Cloudflare Access: ${verdict.reason}`)
      }
      c.set('adminActor', verdict.actor)
      return proceed()
    }

    if (!settings.secret) return adminError(c, 401, 'admin_signature_not_configured', 'Signed requests are off on this gateway (no ADMIN_SECRET); sign in through Cloudflare Access')
    const url = new URL(c.req.url)
    const verdict = await verifyAdminRequest(settings.secret, c.req.raw.headers, {
      method: c.req.method,
      host: url.host,
      pathWithQuery: url.pathname + url.search,
      body,
    })
    if (!verdict.ok) {
      switch (verdict.reason) {
        case 'missing':
          return adminError(c, 401, 'admin_unsigned', 'Signed admin requests carry X-Admin-Timestamp, X-Admin-Nonce and X-Admin-Signature')
        case 'old_version':
          return adminError(c, 401, 'admin_signature_outdated', 'Version 1 signatures are no longer accepted (they could be replayed): update the odoo-mcp CLI')
        case 'bad_nonce':
          return adminError(c, 401, 'admin_bad_nonce', 'X-Admin-Nonce must be 16-64 characters of A-Z a-z 0-9 _ -')
        case 'bad_actor':
          return adminError(c, 401, 'admin_bad_actor', 'X-Admin-Actor must be 1-64 letters, digits or . _ @ + -')
        case 'stale':
          return adminError(c, 401, 'admin_stale', `X-Admin-Timestamp is more than ${ADMIN_MAX_SKEW_SECONDS / 60} minutes away from the gateway clock`)
        case 'bad_signature':
          return adminError(c, 401, 'admin_bad_signature', 'The admin signature does not match (wrong ADMIN_SECRET, or the request was changed on its way)')
      }
    }
    // Remembered past the window on both sides of the clock, so the nonce is gone only once its timestamp is stale.
    const forgetAt = (verdict.timestamp + ADMIN_MAX_SKEW_SECONDS + 60) * 1000
    let fresh: boolean
    try {
      fresh = await adminLedger(c.env).claimNonce(verdict.nonce, forgetAt)
    } catch (error) {
      logError(error, 'admin nonce', c.get('requestId'))
      return adminError(c, 503, 'admin_unavailable', 'The admin API cannot check request nonces right now; retry shortly', undefined, { 'Retry-After': '1' })
    }
    if (!fresh) return adminError(c, 401, 'admin_replayed', 'This signed request was already used (X-Admin-Nonce seen before): sign each request anew')
    c.set('adminActor', { id: verdict.actor ? `secret:${verdict.actor}` : 'secret', auth: 'signature' })
    return proceed()
  }
}
