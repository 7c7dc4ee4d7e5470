/**
 * The gateway as OAuth 2.1 authorization server (docs/OAUTH.md), with Cloudflare's
 * `@cloudflare/workers-oauth-provider` in its split form: the library serves the protocol endpoints it owns
 * (authorization server metadata, /token with revocation, /register) and validates access tokens; the gateway keeps
 * the routing (Hono), the /mcp endpoint with its audit and CORS rules, the sign-in and consent page (/authorize,
 * oauth/authorize.ts) and what the library lacks (refresh-token reuse detection, oauth/token.ts).
 *
 * OAuth is on when PUBLIC_URL is set: the issuer and the protected resource are fixed URLs (RFC 8414 / RFC 9728),
 * and MCP clients compare the resource with the URL the user pasted, so they cannot be guessed from a request's Host.
 */
import { OAuthAuthorizationServer, type TokenExchangeCallbackOptions } from '@cloudflare/workers-oauth-provider'
import { ConfigError } from '../config'
import type { Env } from '../env'
import type { SignInHint } from '../http/bearer-challenge'

/** The one scope: the connection's policy, not the scope, says what it may do. */
export const OAUTH_SCOPE = 'odoo'

/** Refresh tokens and registrations: bounded by the connection's own lifetime (tokenExchange below). */
const MAX_REFRESH_TTL_SECONDS = 90 * 24 * 3600
/** Registered (DCR) clients unused for this long are forgotten; an MCP client registers again on its own. */
const CLIENT_REGISTRATION_TTL_SECONDS = 90 * 24 * 3600

export interface OAuthSettings {
  /** PUBLIC_URL's origin, e.g. https://odoo-mcp.example.com. */
  issuer: string
  /** The MCP endpoint, the one resource tokens are issued for (RFC 8707). */
  resource: string
  /** RFC 9728 protected resource metadata of /mcp (path-aware form). */
  resourceMetadataUrl: string
}

/** What a grant carries (encrypted by the library; only a token holder's request decrypts it). */
export interface ConnectionProps {
  connectionId: string
  tokenTtlSeconds: number
  /** When the connection ends (ms): no token outlives it. */
  expiresAt: number
}

/** A PUBLIC_URL that cannot work: an operator's mistake, answered like any other (ConfigError, index.ts). */
export class OAuthConfigError extends ConfigError {
  override name = 'OAuthConfigError'
}

/** What a 401 says to OAuth clients (http/bearer-challenge.ts); undefined when OAuth is off. */
export function signInHint(env: Pick<Env, 'PUBLIC_URL'>): SignInHint | undefined {
  const settings = oauthSettings(env)
  return settings ? { resourceMetadataUrl: settings.resourceMetadataUrl, scope: OAUTH_SCOPE } : undefined
}

/** An OAuth access or refresh token of this gateway: `<connection id>:<grant id>:<secret>` (the library's format). */
const CONNECTION_TOKEN = /^(con_[0-9a-f]{16}):([A-Za-z0-9_-]{16}):[A-Za-z0-9_-]{32}$/

export function parseConnectionToken(token: string): { connectionId: string; grantId: string } | null {
  const match = CONNECTION_TOKEN.exec(token)
  return match ? { connectionId: match[1]!, grantId: match[2]! } : null
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]'])

/** PUBLIC_URL → the settings; null when it is unset (OAuth off). @throws OAuthConfigError for a value that cannot work. */
export function oauthSettings(env: Pick<Env, 'PUBLIC_URL'>): OAuthSettings | null {
  // Asked on every /mcp request (http/auth.ts): parsed once per env object, like loadConfig.
  const known = settingsCache.get(env)
  if (known !== undefined) return known
  const settings = parseSettings(env.PUBLIC_URL)
  settingsCache.set(env, settings)
  return settings
}

const settingsCache = new WeakMap<object, OAuthSettings | null>()

function parseSettings(publicUrl: string | undefined): OAuthSettings | null {
  const raw = publicUrl?.trim()
  if (!raw) return null
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw new OAuthConfigError(`PUBLIC_URL '${raw}' is not a URL`)
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)
  if (url.protocol !== 'https:' && !loopbackHttp) throw new OAuthConfigError('PUBLIC_URL must be https (or http on localhost)')
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
    throw new OAuthConfigError('PUBLIC_URL must be the gateway origin only, such as https://odoo-mcp.example.com')
  }
  const issuer = url.origin
  return { issuer, resource: `${issuer}/mcp`, resourceMetadataUrl: `${issuer}/.well-known/oauth-protected-resource/mcp` }
}

/**
 * Access tokens live as long as the connector profile said at sign-in; refresh tokens no longer than the connection.
 * Both are computed again on every refresh (the connection's end comes closer), from the grant's props.
 */
function tokenLifetimes(options: TokenExchangeCallbackOptions<Env>) {
  const props = options.props as ConnectionProps
  const remaining = Math.floor((props.expiresAt - Date.now()) / 1000)
  return {
    accessTokenTTL: Math.max(60, Math.min(props.tokenTtlSeconds, remaining)),
    refreshTokenTTL: Math.max(60, Math.min(MAX_REFRESH_TTL_SECONDS, remaining)),
  }
}

const servers = new Map<string, OAuthAuthorizationServer<Env>>()

/** The library's server for these settings, built once per isolate. */
export function authorizationServer(settings: OAuthSettings): OAuthAuthorizationServer<Env> {
  let server = servers.get(settings.issuer)
  if (!server) {
    server = new OAuthAuthorizationServer<Env>({
      issuer: settings.issuer,
      resources: [settings.resource],
      defaultResource: settings.resource,
      authorizeEndpoint: `${settings.issuer}/authorize`,
      // The 2025-03-26 default paths, where clients without metadata look.
      tokenEndpoint: `${settings.issuer}/token`,
      clientRegistrationEndpoint: `${settings.issuer}/register`,
      scopesSupported: [OAUTH_SCOPE],
      refreshTokenTTL: MAX_REFRESH_TTL_SECONDS,
      clientRegistrationTTL: CLIENT_REGISTRATION_TTL_SECONDS,
      // URL client ids (Client ID Metadata Documents), what the 2025-11-25 and 2026-07-28 specs prefer; needs the
      // global_fetch_strictly_public flag (wrangler.toml), and oauth/client-id-guard.ts refuses private targets first.
      clientIdMetadataDocumentEnabled: true,
      tokenExchangeCallback: tokenLifetimes,
    })
    servers.set(settings.issuer, server)
  }
  return server
}

/** Where the sweep below continues from, next to the library's keys (their prefixes are client:, grant:, token:...). */
const PURGE_CURSOR_KEY = 'gateway:purge-cursor'

/**
 * The hourly cron's share of OAuth housekeeping: KV drops expired entries by itself; this removes grants of deleted
 * clients and the stragglers, 200 keys per phase per run (well inside a cron's subrequest budget), each run going on
 * where the last stopped. Null when OAuth is off.
 */
export async function purgeExpiredOAuthData(env: Env) {
  const settings = oauthSettings(env)
  if (!settings) return null
  const cursor = (await env.OAUTH_KV.get(PURGE_CURSOR_KEY)) ?? undefined
  const result = await authorizationServer(settings).purgeExpiredData(env, { batchSize: 200, ...(cursor ? { cursor } : {}) })
  if (result.cursor) await env.OAUTH_KV.put(PURGE_CURSOR_KEY, result.cursor)
  else await env.OAUTH_KV.delete(PURGE_CURSOR_KEY)
  return result
}
