/**
 * The OAuth URLs MCP clients probe after a 401, answered when OAuth sign-in is off (PUBLIC_URL unset; when it is on,
 * oauth/routes.ts answers them for real and calls this module only for that case).
 *
 * An MCP client that gets a 401 starts OAuth discovery (MCP authorization spec; the TypeScript SDK's
 * `auth()`, which Inspector and mcp-remote use, and the Python SDK's OAuth provider): protected-resource metadata
 * (RFC 9728), authorization-server metadata (RFC 8414, OpenID discovery), then, finding none, dynamic client
 * registration at `/register`, whose error body it shows to the user. So:
 *
 * - every metadata URL answers **404**: the SDKs read a 404 there as "no OAuth here" and move on (a 5xx would end
 *   the flow with "HTTP 500 trying to load OAuth metadata", which says nothing useful);
 * - `/register`, `/authorize` and `/token` answer **404** with an OAuth error body (`error`, `error_description`):
 *   the TypeScript SDK throws `error_description` as the error's message, the Python SDK prints the body, so the
 *   user reads "this gateway does not support OAuth: send Authorization: Bearer <API key>" instead of a bare
 *   "HTTP 404".
 *
 * Every body is also a gateway error (`error`, `message`, `request_id`), `Cache-Control: no-store` (so the answer is
 * not remembered once OAuth exists). The description never contains "404", "Not Found" or "Unauthorized": mcp-remote
 * looks for those words in an error's message to decide to retry over another transport or restart OAuth.
 *
 * The SDK sends the client's configured headers (the `Authorization` it sent to /mcp) along to these URLs; when one
 * is there, the description says whether that key is malformed (format and checksum, checked offline as in
 * identifyKey) or well-formed, and so refused for another reason that only POST /mcp tells. Nothing here reads D1 or
 * a key object, nor echoes the header. These routes are not audited: they are outside /mcp, touch no key and no Odoo.
 *
 * Browser clients (Inspector's web UI in "Direct" mode) fetch these URLs from their page, so allowed origins
 * (`ALLOWED_ORIGINS`, as for /mcp) get CORS headers and preflights; other origins get none and their browser hides
 * the answer, which gives away nothing anyway.
 */
import type { Context } from 'hono'
import { cors } from 'hono/cors'
import { loadConfig } from '../config'
import { httpErrorBody } from '../errors'
import { API_KEY_PREFIX, parseApiKey } from '../keys/key-format'
import type { GatewayEnv } from './types'

/** The error code of every answer here. Not an RFC 6749 code: the SDKs show its description as is. */
export const OAUTH_NOT_SUPPORTED = 'oauth_not_supported'

/**
 * Metadata documents. `/x/*` also matches `/x`; the suffix is the MCP endpoint's path (path-aware discovery,
 * `/.well-known/oauth-protected-resource/mcp`) or a tenant path.
 */
export const OAUTH_METADATA_PATHS = [
  '/.well-known/oauth-protected-resource/*',
  '/.well-known/oauth-authorization-server/*',
  '/.well-known/openid-configuration/*',
  // OpenID Connect Discovery 1.0 style, the issuer's path first (a client that takes /mcp as the issuer).
  '/mcp/.well-known/openid-configuration',
  '/mcp/.well-known/oauth-authorization-server',
] as const

/** The endpoints a client falls back to when no metadata names them (`new URL('/register', origin)`...). */
export const OAUTH_ENDPOINT_PATHS = ['/register', '/authorize', '/token'] as const

const NOT_SUPPORTED = 'This gateway does not offer OAuth sign-in (its administrator has not set PUBLIC_URL): it takes API keys.'
const HOW =
  "Configure the client to send the header 'Authorization: Bearer <API key>' (an omk_... key from " +
  "'npx odoo-mcp keys create') with its requests to /mcp."

/** What the client is told, depending on the Authorization header it sent along (never echoed). */
export function oauthNotSupportedMessage(authorization: string | undefined): string {
  if (authorization === undefined || authorization.trim() === '') {
    return (
      `${NOT_SUPPORTED} ${HOW} If it already sends one, POST /mcp refused that key (malformed, unknown, expired, ` +
      'revoked or rotated out) and its 401 answer says which.'
    )
  }
  const token = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization)?.[1]
  if (token === undefined) {
    return `${NOT_SUPPORTED} The client's Authorization header is not 'Bearer <API key>'. ${HOW}`
  }
  if (!parseApiKey(token).ok) {
    return (
      `${NOT_SUPPORTED} The key this client sends is malformed (not an ${API_KEY_PREFIX}... key, or wrong checksum): ` +
      "check it was copied completely, or ask the gateway administrator for a new one ('npx odoo-mcp keys create')."
    )
  }
  return (
    `${NOT_SUPPORTED} The key this client sends is well-formed; if POST /mcp refused it, it is unknown, expired, ` +
    'revoked or rotated out, and the 401 answer of POST /mcp says which. Ask the gateway administrator for a new key.'
  )
}

export function notSupported(c: Context<GatewayEnv>): Response {
  const message = oauthNotSupportedMessage(c.req.header('authorization'))
  return c.json({ ...httpErrorBody(OAUTH_NOT_SUPPORTED, message, c.get('requestId')), error_description: message }, 404, {
    'Cache-Control': 'no-store',
  })
}

/** Origins allowed as for /mcp; a configuration error here means no CORS, not a 500 (this answer is fixed anyway). */
function allowedOrigin(origin: string, c: Context<GatewayEnv>): string | null {
  try {
    return loadConfig(c.env).allowedOrigins.has(origin.trim().toLowerCase()) ? origin : null
  } catch {
    return null
  }
}

export const discoveryCors = cors({
  origin: allowedOrigin,
  allowMethods: ['GET', 'POST', 'OPTIONS'],
  allowHeaders: ['Authorization', 'Content-Type', 'Accept', 'Mcp-Protocol-Version'],
  exposeHeaders: ['X-Request-Id'],
  maxAge: 600,
})

