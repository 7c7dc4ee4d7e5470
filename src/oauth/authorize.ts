/**
 * /authorize: sign in with Odoo, see what the connection may do, allow or deny (docs/OAUTH.md).
 *
 *   GET   the library validates the request (client, exact redirect URI, resource, PKCE method); the gateway also
 *         requires `state` and an S256 `code_challenge`, and a connector profile that admits this client; then the
 *         page (oauth/consent-page.ts) with a consent handle bound to this browser by a `__Host-` cookie.
 *   POST  (the same URL: the page posts back to it) deny → the client's redirect URI with access_denied. Allow →
 *         sign-in attempt limits (oauth/sign-in-limiter.ts) → the Odoo login and secret checked against Odoo, as a
 *         key's are (admin/odoo-credentials.ts) → the login must be one the profile admits → the consent handle is
 *         spent → the connection is stored (secret sealed) → the authorization code goes to the client.
 *
 * Every failure of the credentials gets the same words, whether the login, the secret or the profile's login list
 * refused them; it is audited on the unauthenticated chains and counted by the auth_failures alert. An error before
 * the client and its redirect URI are validated is shown here and never redirected (no open redirect).
 */
import {
  AuthorizationError,
  authorizationErrorRedirect,
  CimdFetchError,
  type AuthRequest,
  type ConsentDescription,
} from '@cloudflare/workers-oauth-provider'
import type { Context } from 'hono'
import { checkOdooCredentials } from '../admin/odoo-credentials'
import { loadConfig } from '../config'
import { clientAddress } from '../http/auth'
import type { GatewayEnv } from '../http/types'
import { loadLimitsConfig } from '../limits/config'
import { keyObject } from '../keys/placement'
import { importCredentialsKey, sealSecret } from '../lib/crypto'
import { logError } from '../log'
import { clientIdProblem } from './client-id-guard'
import { generateConnectionId } from './connection-id'
import { activeProfiles, saveConnection } from './connection-store'
import type { ConnectorProfile } from './connector-profile'
import { consentPage, pageSecurityPolicy, problemPage } from './consent-page'
import { auditConnectionEvent, auditSignInEvent } from './oauth-audit'
import { describeProfile } from './policy-words'
import { loginAllowed, profilesFor } from './profile-match'
import { authorizationServer, OAUTH_SCOPE, parseConnectionToken, type ConnectionProps, type OAuthSettings } from './server'
import { beginSignInAttempt } from './sign-in-limiter'

/** The one message for every refused sign-in: it must not tell which part was wrong. */
export const SIGN_IN_REFUSED = 'Odoo did not accept this login and secret for this connection. Check both and try again.'

/** RFC 7636 §4.2: 43 to 128 unreserved characters. */
const PKCE_CHALLENGE = /^[A-Za-z0-9\-._~]{43,128}$/

const LOGIN_MAX = 255
const SECRET_MAX = 4096

type C = Context<GatewayEnv>

function html(status: number, body: string, headers: Headers = new Headers(), redirectOrigin?: string): Response {
  headers.set('Content-Type', 'text/html; charset=utf-8')
  headers.set('Cache-Control', 'no-store')
  headers.set('Content-Security-Policy', pageSecurityPolicy(redirectOrigin))
  headers.set('X-Frame-Options', 'DENY')
  // same-origin, not no-referrer: under no-referrer the browser posts the form with `Origin: null`, which the
  // cross-site check below must refuse; either way no Referer (with the page's query) goes to another site.
  headers.set('Referrer-Policy', 'same-origin')
  return new Response(body, { status, headers })
}

function problem(status: number, title: string, message: string): Response {
  return html(status, problemPage(title, message))
}

function redirect(location: string, headers: Headers = new Headers()): Response {
  headers.set('Location', location)
  headers.set('Cache-Control', 'no-store')
  return new Response(null, { status: 302, headers })
}

/** A library refusal: back to the client when its redirect URI is validated, on this page otherwise. */
function authorizationProblem(error: unknown): Response {
  if (error instanceof AuthorizationError && error.redirectTo) return redirect(error.redirectTo)
  if (error instanceof AuthorizationError) return problem(400, 'This connection request is not valid', error.description)
  if (error instanceof CimdFetchError) return problem(400, 'This app could not be verified', 'Its client metadata document could not be fetched or is not valid.')
  throw error
}

interface ValidatedRequest {
  request: AuthRequest
  details: ConsentDescription
  profiles: ConnectorProfile[]
}

/** The checks GET and POST share: the library's, then state, PKCE S256 and a profile for this client. */
async function validateRequest(c: C, settings: OAuthSettings): Promise<ValidatedRequest | Response> {
  const query = new URL(c.req.url).searchParams
  // RFC 6749 §3.1: no parameter more than once. Which copy a parser takes is not something to rely on: the client id
  // checked here and the one the library fetches, or the redirect URI, could otherwise differ.
  const repeated = [...new Set(query.keys())].find((name) => query.getAll(name).length > 1)
  if (repeated !== undefined) return problem(400, 'This connection request is not valid', `The parameter '${repeated.slice(0, 40)}' is sent more than once.`)
  const clientProblem = clientIdProblem(query.get('client_id'))
  if (clientProblem) return problem(400, 'This connection request is not valid', clientProblem)
  const api = authorizationServer(settings).getOAuthApi(c.env)
  let request: AuthRequest
  let details: ConsentDescription
  try {
    request = await api.parseAuthRequest(c.req.raw)
    details = await api.describeConsent(request)
  } catch (error) {
    return authorizationProblem(error)
  }
  // OAuth 2.1 leaves `state` optional; the gateway does not: it is the client's CSRF protection for its callback.
  if (!request.state) return redirect(authorizationErrorRedirect(request, 'invalid_request', 'state is required'))
  // The library lets a confidential client skip PKCE, and takes any string as a challenge; the gateway requires S256 of
  // every client, with a challenge of RFC 7636's shape (an S256 challenge is 43 base64url characters).
  if (!request.codeChallenge || request.codeChallengeMethod !== 'S256' || !PKCE_CHALLENGE.test(request.codeChallenge)) {
    return redirect(authorizationErrorRedirect(request, 'invalid_request', 'PKCE is required: send code_challenge with code_challenge_method=S256'))
  }
  const profiles = profilesFor(await activeProfiles(c.env.DB), {
    name: details.clientName,
    ...(details.clientDomain ? { domain: details.clientDomain } : {}),
    redirectUri: request.redirectUri,
  })
  if (profiles.length === 0) {
    return problem(
      403,
      `${details.clientName} cannot connect to this Odoo`,
      `No connector on this gateway admits ${details.clientName} (redirecting to ${details.redirectHost}). Ask the gateway administrator to add one ('odoo-mcp connectors add').`,
    )
  }
  return { request, details, profiles }
}

/** Whether two authorization requests ask for the same thing of the same client. */
function sameAuthorization(a: AuthRequest, b: AuthRequest): boolean {
  return (
    a.clientId === b.clientId &&
    a.redirectUri === b.redirectUri &&
    a.state === b.state &&
    a.codeChallenge === b.codeChallenge &&
    a.codeChallengeMethod === b.codeChallengeMethod &&
    a.resource === b.resource
  )
}

interface PageState {
  handle: string
  selectedProfile?: string
  login?: string
  error?: string
}

function renderPage(c: C, validated: ValidatedRequest, state: PageState, status: number, headers?: Headers): Response {
  const limits = loadLimitsConfig(c.env)
  const body = consentPage({
    details: validated.details,
    handle: state.handle,
    profiles: validated.profiles.map((profile) => ({ name: profile.name, words: describeProfile(profile, limits.defaultKeyLimit.perMinute) })),
    ...(state.selectedProfile ? { selectedProfile: state.selectedProfile } : {}),
    ...(state.login !== undefined ? { login: state.login } : {}),
    ...(state.error ? { error: state.error } : {}),
    passwordAccepted: loadConfig(c.env).odooProtocol !== 'json2',
  })
  return html(status, body, headers, new URL(validated.request.redirectUri).origin)
}

export async function showAuthorize(c: C, settings: OAuthSettings): Promise<Response> {
  const validated = await validateRequest(c, settings)
  if (validated instanceof Response) return validated
  const consent = await authorizationServer(settings).getOAuthApi(c.env).beginConsent(validated.request)
  return renderPage(c, validated, { handle: consent.handle }, 200, consent.headers)
}

/** A form post from another site (the consent cookie is SameSite=Lax, this is a second lock). */
function crossSitePost(c: C, settings: OAuthSettings): boolean {
  const origin = c.req.header('origin')
  if (origin !== undefined && origin !== settings.issuer) return true
  const site = c.req.header('sec-fetch-site')
  return site !== undefined && site !== 'same-origin' && site !== 'none'
}

export async function submitAuthorize(c: C, settings: OAuthSettings): Promise<Response> {
  const startedAt = Date.now()
  if (crossSitePost(c, settings)) return problem(403, 'Request refused', 'This form can only be sent from this gateway\'s own page.')
  const validated = await validateRequest(c, settings)
  if (validated instanceof Response) return validated
  const api = authorizationServer(settings).getOAuthApi(c.env)
  const form = await c.req.parseBody({ all: false })
  const text = (name: string) => (typeof form[name] === 'string' ? (form[name] as string) : '')
  const handle = text('handle')
  const requestId = c.get('requestId')
  const request = c.req.raw
  const clientName = validated.details.clientDomain ?? validated.details.clientName
  const expired = () =>
    problem(400, 'This page has expired', 'It was already used, is more than 10 minutes old, or was opened in another browser. Start connecting again from your app.')

  if (text('decision') !== 'approve') {
    let denied
    try {
      denied = await api.denyConsent(request, handle)
    } catch (error) {
      if (error instanceof AuthorizationError) return expired()
      throw error
    }
    c.executionCtx.waitUntil(auditSignInEvent(c.env, request, requestId, startedAt, { method: 'oauth/authorize', outcome: 'denied', code: 'oauth_consent_denied', httpStatus: 302, clientName }))
    return redirect(denied.redirectTo, denied.headers)
  }

  const login = text('login').trim()
  const secret = text('secret')
  const profile = validated.profiles.find((candidate) => candidate.name === text('profile')) ?? (validated.profiles.length === 1 ? validated.profiles[0] : undefined)
  const again = (status: number, error: string) => renderPage(c, validated, { handle, login, error, ...(profile ? { selectedProfile: profile.name } : {}) }, status)
  if (!profile) return again(400, 'Choose one of the connectors below.')
  if (login === '' || login.length > LOGIN_MAX || secret === '' || secret.length > SECRET_MAX) {
    return again(400, `Enter your Odoo login (up to ${LOGIN_MAX} characters) and its API key or password.`)
  }

  const attempt = await beginSignInAttempt(c.env, clientAddress(request), login)
  if (!attempt.ok) {
    const minutes = Math.max(1, Math.ceil(attempt.retryAfterMs / 60_000))
    c.executionCtx.waitUntil(auditSignInEvent(c.env, request, requestId, startedAt, { method: 'oauth/authorize', outcome: 'denied', code: 'oauth_sign_in_throttled', httpStatus: 429, clientName, odooLogin: login }))
    return again(429, `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`)
  }

  const config = loadConfig(c.env)
  let check: Awaited<ReturnType<typeof checkOdooCredentials>>
  try {
    check = await checkOdooCredentials({ config, credentials: { login, secret }, checkId: requestId })
  } catch (error) {
    // Our fault, never the user's: logged without its message, which could quote what was sent.
    logError(new Error(`sign-in check failed: ${error instanceof Error ? error.name : 'unknown error'}`), 'oauth sign-in', requestId)
    await attempt.succeeded()
    return again(500, `The sign-in could not be checked (request id ${requestId}). Try again.`)
  }
  if (check.kind === 'unavailable' || check.kind === 'odoo_error') {
    await attempt.succeeded()
    return again(502, 'Odoo cannot be reached right now, so the sign-in could not be checked. Try again in a moment.')
  }
  // JSON-2: an API key whose owner Odoo would not confirm could be another user's; refused like a wrong secret.
  const accepted = check.kind === 'ok' && check.loginChecked && loginAllowed(profile, login)
  if (!accepted) {
    c.executionCtx.waitUntil(auditSignInEvent(c.env, request, requestId, startedAt, { method: 'oauth/authorize', outcome: 'denied', code: 'oauth_sign_in_failed', httpStatus: 401, clientName, odooLogin: login }))
    return again(401, SIGN_IN_REFUSED)
  }
  let approved
  try {
    approved = await api.approveConsent(request, handle, { scope: [OAUTH_SCOPE] })
  } catch (error) {
    if (!(error instanceof AuthorizationError)) throw error
    // Right credentials on a page this browser did not open: not refunded, and audited, so that the form cannot
    // serve as a free, silent oracle for Odoo secrets.
    c.executionCtx.waitUntil(auditSignInEvent(c.env, request, requestId, startedAt, { method: 'oauth/authorize', outcome: 'denied', code: 'oauth_consent_unbound', httpStatus: 400, clientName, odooLogin: login }))
    return expired()
  }
  // The request the code is issued for is the one stored when the page was opened, not the one in this post's URL:
  // they must be the same, or the profiles offered (checked against this URL's client and redirect URI) would not
  // be those of the client that gets the code.
  if (!sameAuthorization(approved.request, validated.request)) {
    c.executionCtx.waitUntil(auditSignInEvent(c.env, request, requestId, startedAt, { method: 'oauth/authorize', outcome: 'denied', code: 'oauth_request_mismatch', httpStatus: 400, clientName, odooLogin: login }))
    return expired()
  }
  await attempt.succeeded()
  const connectionId = generateConnectionId()
  const createdAt = Date.now()
  const expiresAt = createdAt + profile.connectionTtlSeconds * 1000
  const props: ConnectionProps = { connectionId, tokenTtlSeconds: profile.tokenTtlSeconds, expiresAt }
  const { redirectTo } = await api.completeAuthorization({
    request: approved.request,
    userId: connectionId,
    metadata: { profile: profile.name },
    scope: [OAUTH_SCOPE],
    props,
  })
  // The code is `<connection id>:<grant id>:<secret>`: its grant is the connection's.
  const grantId = parseConnectionToken(new URL(redirectTo).searchParams.get('code') ?? '')?.grantId
  if (!grantId) throw new Error('the authorization code has an unexpected shape')
  const sealed = await sealSecret(await importCredentialsKey(c.env.CREDENTIALS_KEY), secret, connectionId)
  const replaced = await saveConnection(c.env.DB, {
    id: connectionId,
    profile: profile.name,
    clientId: approved.request.clientId,
    clientName,
    redirectUri: approved.request.redirectUri,
    grantId,
    odooLogin: login,
    odooSecretSealed: sealed,
    odooUid: check.kind === 'ok' ? check.uid : null,
    createdAt,
    expiresAt,
  })
  c.executionCtx.waitUntil(
    Promise.all([
      auditConnectionEvent(c.env, request, requestId, startedAt, connectionId, { method: 'oauth/authorize', outcome: 'ok', code: 'oauth_authorized', httpStatus: 302, clientName, odooLogin: login }),
      // The connection this sign-in replaces stops now, not at its object's next reload.
      ...replaced.map((id) => keyObject(c.env, id).refresh(id).catch((error) => logError(error, 'oauth replaced connection', requestId))),
    ]),
  )
  return redirect(redirectTo, approved.headers)
}

