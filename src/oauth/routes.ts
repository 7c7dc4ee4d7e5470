/**
 * The OAuth URLs (docs/OAUTH.md). With PUBLIC_URL set:
 *
 *   GET  /.well-known/oauth-protected-resource[/mcp]  RFC 9728 metadata of /mcp (both forms: path-aware first, as
 *                                                     the MCP spec has clients try, then the root)
 *   GET  /.well-known/oauth-authorization-server      RFC 8414 metadata (the library's)
 *   POST /register                                    RFC 7591 dynamic client registration (the library's; limited per address)
 *   GET|POST /authorize                               sign in with Odoo and consent (oauth/authorize.ts)
 *   POST /token                                       tokens, refresh with reuse detection, RFC 7009 revocation (oauth/token.ts)
 *
 * Other discovery URLs (OpenID configuration, metadata under /mcp) answer 404, which clients read as "not here".
 * With PUBLIC_URL unset every one of these answers that OAuth is off (http/oauth-discovery.ts).
 */
import { Hono, type Context } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { cors } from 'hono/cors'
import { clientAddress } from '../http/auth'
import { httpError } from '../http/errors'
import { discoveryCors, notSupported, OAUTH_ENDPOINT_PATHS, OAUTH_METADATA_PATHS } from '../http/oauth-discovery'
import type { GatewayEnv } from '../http/types'
import { showAuthorize, submitAuthorize } from './authorize'
import { authorizationServer, OAUTH_SCOPE, oauthSettings, type OAuthSettings } from './server'
import { takeRegistration } from './sign-in-limiter'
import { tokenEndpoint } from './token'

type Handler = (c: Context<GatewayEnv>, settings: OAuthSettings) => Response | Promise<Response>

/** Runs `handler` when OAuth is on; the "OAuth is off" answer otherwise (with its CORS rules, preflights included). */
const whenOn = (handler: Handler) => async (c: Context<GatewayEnv>) => {
  const settings = oauthSettings(c.env)
  if (settings) {
    // The issuer and the resource are PUBLIC_URL's: a client that came through another host name (workers.dev beside
    // a custom domain, 127.0.0.1 beside localhost) would get documents naming another origin, and the library serves
    // its endpoints at the issuer's origin only. Say so instead of a bare 404.
    const origin = new URL(c.req.url).origin
    if (origin !== settings.issuer) {
      return httpError(c, 404, 'wrong_origin', `OAuth sign-in is served at ${settings.issuer} (PUBLIC_URL), not at ${origin}: use ${settings.issuer}/mcp as the server URL`)
    }
    return handler(c, settings)
  }
  const preflight = await discoveryCors(c, async () => {
    c.res = notSupported(c)
  })
  return preflight ?? c.res
}

/** Metadata documents are public: any origin may read them (no credentials involved). */
const publicCors = cors({ origin: '*', allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['Mcp-Protocol-Version', 'Content-Type'], maxAge: 600 })

function protectedResourceMetadata(c: Context<GatewayEnv>, settings: OAuthSettings): Response {
  return c.json(
    {
      resource: settings.resource,
      authorization_servers: [settings.issuer],
      scopes_supported: [OAUTH_SCOPE],
      bearer_methods_supported: ['header'],
      resource_name: 'Odoo through odoo-mcp-edge',
      resource_documentation: 'https://github.com/odoo-mcp-edge/odoo-mcp-edge/blob/main/docs/OAUTH.md',
    },
    200,
    { 'Cache-Control': 'public, max-age=300' },
  )
}

const library: Handler = (c, settings) => authorizationServer(settings).fetch(c.req.raw, c.env, c.executionCtx)

const notHere: Handler = (c, settings) =>
  httpError(c, 404, 'not_found', `No OAuth metadata here: the authorization server's is at ${settings.issuer}/.well-known/oauth-authorization-server`)

/** RFC 7591 registration is open to anyone: limited per client address (oauth/sign-in-limiter.ts), then the library's. */
const register: Handler = async (c, settings) => {
  const taken = await takeRegistration(c.env, clientAddress(c.req.raw))
  if (!taken.ok) {
    const seconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000))
    return c.json(
      { error: 'too_many_registrations', error_description: `Too many client registrations from this address; retry in ${seconds} s` },
      429,
      { 'Retry-After': String(seconds), 'Cache-Control': 'no-store' },
    )
  }
  return library(c, settings)
}

export const oauthRoutes = new Hono<GatewayEnv>()

/** Far above any legitimate form or registration (a few hundred bytes); refused before anything parses it. */
const MAX_OAUTH_BODY_BYTES = 64 * 1024
for (const path of ['/authorize', '/token', '/register']) {
  oauthRoutes.post(
    path,
    bodyLimit({
      maxSize: MAX_OAUTH_BODY_BYTES,
      onError: (c) =>
        c.json({ error: 'invalid_request', error_description: `The request body is larger than ${MAX_OAUTH_BODY_BYTES / 1024} KiB` }, 413, { 'Cache-Control': 'no-store' }),
    }),
  )
}

oauthRoutes.use('/.well-known/*', (c, next) => (oauthSettings(c.env) ? publicCors(c, next) : next()))
oauthRoutes.get('/.well-known/oauth-protected-resource', whenOn(protectedResourceMetadata))
oauthRoutes.get('/.well-known/oauth-protected-resource/mcp', whenOn(protectedResourceMetadata))
oauthRoutes.all('/.well-known/oauth-authorization-server', whenOn(library))
oauthRoutes.post('/register', whenOn(register))
oauthRoutes.all('/register', whenOn(library))
oauthRoutes.all('/token', whenOn((c, settings) => (c.req.method === 'POST' ? tokenEndpoint(c, settings) : library(c, settings))))
oauthRoutes.get('/authorize', whenOn(showAuthorize))
oauthRoutes.post('/authorize', whenOn(submitAuthorize))
oauthRoutes.all('/authorize', whenOn((c) => httpError(c, 405, 'method_not_allowed', '/authorize takes GET (the sign-in page) and POST (its form)', { Allow: 'GET, POST' })))

// Everything else clients probe: "not here" when OAuth is on, "off" when it is off.
for (const path of [...OAUTH_METADATA_PATHS, ...OAUTH_ENDPOINT_PATHS]) {
  oauthRoutes.all(path, whenOn(notHere))
}
