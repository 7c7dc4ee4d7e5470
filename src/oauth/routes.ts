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
  if (settings) return handler(c, settings)
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
