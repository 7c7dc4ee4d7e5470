/**
 * Helpers for the OAuth tests: the gateway runs with PUBLIC_URL=https://gateway.test (vitest.config.ts), against the
 * simulated Odoo 18 (logins' passwords are the login; API keys `odoo-apikey-<login>`, test/odoo-sim/README.md).
 *
 * `signInAsBrowser` plays the user's browser on /authorize: it loads the page, keeps its cookies, and posts the form
 * as Chromium would (same-origin, the page's fields); the real-browser tests are in test/node/oauth-browser.test.ts.
 */
import { env, exports } from 'cloudflare:workers'
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'

export const ISSUER = 'https://gateway.test'
export const MCP = `${ISSUER}/mcp`
export const CALLBACK = 'http://127.0.0.1:33418/callback'

export const fetchGateway = (input: string | URL | Request, init?: RequestInit): Promise<Response> =>
  exports.default.fetch(input instanceof Request ? input : new Request(input, init))

export const READ_PARTNERS = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'email'] } } }

export interface ProfileOptions {
  name?: string
  policy?: unknown
  logins?: string[] | null
  clientName?: string | null
  redirectUris?: string[]
  tokenTtlSeconds?: number
  connectionTtlSeconds?: number
}

/** Adds a connector profile as `odoo-mcp connectors add` does. */
export async function addProfile(options: ProfileOptions = {}): Promise<string> {
  const name = options.name ?? `p-${crypto.randomUUID().slice(0, 8)}`
  await env.DB.prepare(
    `INSERT INTO connector_profiles (name, policy, logins, client_name, redirect_uris, token_ttl_seconds, connection_ttl_seconds, created_at)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)`,
  )
    .bind(
      name,
      JSON.stringify(options.policy ?? READ_PARTNERS),
      options.logins === undefined || options.logins === null ? null : JSON.stringify(options.logins),
      options.clientName ?? null,
      JSON.stringify(options.redirectUris ?? []),
      options.tokenTtlSeconds ?? 3600,
      options.connectionTtlSeconds ?? 30 * 86_400,
      Date.now(),
    )
    .run()
  return name
}

/** Removes every profile (each test file starts from a clean list where it matters). */
export async function clearProfiles(): Promise<void> {
  await env.DB.prepare('DELETE FROM connector_profiles').run()
}

/** An in-memory OAuthClientProvider, as an MCP client application keeps its OAuth state. */
export class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier = ''
  authorizationUrl: URL | undefined
  readonly redirectUrl: string
  readonly clientMetadata: OAuthClientMetadata

  constructor(options: { redirectUrl?: string; clientName?: string } = {}) {
    this.redirectUrl = options.redirectUrl ?? CALLBACK
    this.clientMetadata = {
      client_name: options.clientName ?? 'Test MCP client',
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    }
  }
  state(): string {
    return `st-${crypto.randomUUID()}`
  }
  clientInformation() {
    return this.info
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    return this.verifier
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier') {
    if (scope === 'all' || scope === 'client') this.info = undefined
    if (scope === 'all' || scope === 'tokens') this.saved = undefined
  }
}

/** A browser's cookie jar for one origin (enough for the consent cookie). */
export class CookieJar {
  private readonly cookies = new Map<string, string>()
  take(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const index = pair!.indexOf('=')
      const name = pair!.slice(0, index).trim()
      const value = pair!.slice(index + 1).trim()
      if (/max-age=0/i.test(line) || value === '') this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
  header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }
}

export interface PageForm {
  status: number
  html: string
  handle: string | null
  profiles: string[]
  /** Where the browser posts the form: its action resolved against the page's URL (no action: the page's URL). */
  action: string | null
}

export function readPage(status: number, html: string, pageUrl: string): PageForm {
  const handle = /name="handle" value="([^"]*)"/.exec(html)?.[1] ?? null
  const profiles = [...html.matchAll(/name="profile"[^>]*value="([^"]*)"/g)].map((match) => match[1]!)
  const form = /<form\b([^>]*)>/.exec(html)
  const actionAttribute = form ? /\baction="([^"]*)"/.exec(form[1]!)?.[1] : undefined
  const action = form ? new URL(actionAttribute?.replace(/&amp;/g, '&') ?? '', pageUrl).toString() : null
  return { status, html, handle, profiles, action }
}

/** Loads the sign-in page like a browser (GET, keeping cookies). */
export async function openPage(url: URL | string, jar = new CookieJar()): Promise<PageForm & { jar: CookieJar; response: Response }> {
  const response = await fetchGateway(String(url), { headers: { cookie: jar.header(), 'sec-fetch-site': 'cross-site' }, redirect: 'manual' })
  jar.take(response)
  const html = response.headers.get('content-type')?.startsWith('text/html') ? await response.text() : ''
  return { ...readPage(response.status, html, String(url)), jar, response }
}

export interface FormValues {
  login?: string
  secret?: string
  decision?: 'approve' | 'deny'
  profile?: string
  handle?: string
}

/** Posts the page's form to `url`: pass the page's `action`, which is where a browser would send it. */
export async function postPage(url: URL | string, jar: CookieJar, values: FormValues & { handle: string }, headers: Record<string, string> = {}): Promise<Response> {
  const form = new URLSearchParams({ handle: values.handle, decision: values.decision ?? 'approve' })
  if (values.login !== undefined) form.set('login', values.login)
  if (values.secret !== undefined) form.set('secret', values.secret)
  if (values.profile !== undefined) form.set('profile', values.profile)
  const response = await fetchGateway(String(url), {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: jar.header(),
      origin: ISSUER,
      'sec-fetch-site': 'same-origin',
      ...headers,
    },
    body: form,
  })
  jar.take(response)
  return response
}

/** The whole browser part: open the page, sign in, allow; returns the redirect the browser would follow. */
export async function signInAsBrowser(url: URL | string, values: FormValues = {}): Promise<Response> {
  const page = await openPage(url)
  if (page.status !== 200 || !page.handle || !page.action) throw new Error(`sign-in page answered ${page.status}: ${page.html.slice(0, 300)}`)
  return postPage(page.action, page.jar, { login: 'admin', secret: 'admin', ...values, handle: values.handle ?? page.handle })
}

// ——— A hand-driven client, for the attacks: every parameter under the test's control. ———

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)))
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))))
  return { verifier, challenge }
}

/** Registers a public client (RFC 7591) and returns its id. */
export async function register(redirectUris: string[] = [CALLBACK], clientName = 'Attack test client'): Promise<string> {
  const response = await fetchGateway(`${ISSUER}/register`, {
    method: 'POST',
    // Each from its own address: registrations are limited per address (30), and the tests register many clients.
    headers: { 'content-type': 'application/json', 'cf-connecting-ip': `198.18.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}` },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: redirectUris,
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    }),
  })
  if (response.status !== 201) throw new Error(`registration answered ${response.status}: ${await response.text()}`)
  return ((await response.json()) as { client_id: string }).client_id
}

export interface AuthorizeParams {
  clientId: string
  redirectUri?: string
  state?: string | null
  challenge?: string | null
  method?: string | null
  resource?: string | null
  scope?: string | null
  responseType?: string | null
}

/** The /authorize URL a client sends the browser to; `null` leaves a parameter out. */
export function authorizeUrl(params: AuthorizeParams): URL {
  const url = new URL(`${ISSUER}/authorize`)
  const set = (name: string, value: string | null | undefined, fallback: string | null) => {
    const chosen = value === undefined ? fallback : value
    if (chosen !== null) url.searchParams.set(name, chosen)
  }
  set('response_type', params.responseType, 'code')
  url.searchParams.set('client_id', params.clientId)
  set('redirect_uri', params.redirectUri, CALLBACK)
  set('state', params.state, 'state-123')
  set('code_challenge', params.challenge, null)
  set('code_challenge_method', params.method, 'S256')
  set('resource', params.resource, MCP)
  set('scope', params.scope, 'odoo')
  return url
}

export interface Grant {
  clientId: string
  verifier: string
  code: string
  redirectUri: string
}

/** Register (unless given a client), sign in as the browser, and return the code with what redeems it. */
export async function obtainCode(values: FormValues = {}, clientId?: string, redirectUri = CALLBACK): Promise<Grant> {
  const client = clientId ?? (await register([redirectUri]))
  const { verifier, challenge } = await pkce()
  const response = await signInAsBrowser(authorizeUrl({ clientId: client, challenge, redirectUri }), values)
  if (response.status !== 302) throw new Error(`sign-in answered ${response.status}: ${(await response.text()).slice(0, 400)}`)
  const code = new URL(response.headers.get('location')!).searchParams.get('code')
  if (!code) throw new Error(`no code in ${response.headers.get('location')}`)
  return { clientId: client, verifier, code, redirectUri }
}

export function tokenRequest(fields: Record<string, string>): Promise<Response> {
  return fetchGateway(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  })
}

export interface Tokens {
  access_token: string
  refresh_token: string
  expires_in: number
}

export async function redeem(grant: Grant, overrides: Record<string, string> = {}): Promise<Response> {
  return tokenRequest({
    grant_type: 'authorization_code',
    code: grant.code,
    redirect_uri: grant.redirectUri,
    client_id: grant.clientId,
    code_verifier: grant.verifier,
    resource: MCP,
    ...overrides,
  })
}

export function refreshWith(clientId: string, refreshToken: string): Promise<Response> {
  return tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, resource: MCP })
}

/** tools/list at /mcp with this bearer token: the status tells whether the token is accepted. */
export function mcpWith(token: string): Promise<Response> {
  return fetchGateway(MCP, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  })
}

export const connectionOf = (token: string) => token.split(':')[0]!
