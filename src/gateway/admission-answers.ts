/**
 * The answer to a request its key's object refused to admit (keys/key-object.ts decides; see keys/admission.ts),
 * built inside the object so that the audit record it appends has the answer's exact status and size. Pure.
 *
 * Every refusal of a presented key is a 401 of the same shape (`invalid_token`, RFC 6750 challenge) whose message
 * says what to do; a 403 says the client address or the stored policy is the reason; a 429 is a JSON-RPC error (so
 * an MCP client shows it) with the IETF rate-limit headers.
 */
import type { AuditOutcome } from '../audit/record'
import { httpErrorBody } from '../errors'
import { bearerChallenge, type SignInHint } from '../http/bearer-challenge'
import type { Admission, KeyIdentity, RefusalReason } from '../keys/admission'
import type { LimitsConfig } from '../limits/config'
import { rateLimitHeaders, retryAfterSeconds } from '../limits/headers'

export type Refusal = Exclude<Admission, { kind: 'admitted' }>

export interface RefusalAnswer {
  status: number
  headers: Record<string, string>
  body: string
  /** How the audit record ends. */
  outcome: AuditOutcome
  code: string
  /** Who the key belongs to, when it was found (its chain gets the record). */
  key?: KeyIdentity
}

const day = (ms: number) => new Date(ms).toISOString()

/** The same refusals, for an OAuth connection (oauth/connection-store.ts): the way out is to sign in again. */
export function connectionRefusalMessage(reason: RefusalReason, at: number | undefined): string {
  switch (reason) {
    case 'revoked':
      return `This connection was revoked (${day(at!)}). Sign in again from your app to make a new one.`
    case 'expired':
      return `This connection ended at ${day(at!)}. Sign in again from your app to make a new one.`
    case 'token_revoked':
      return 'This access token was revoked by its client. Refresh it or sign in again.'
    case 'rotated':
    case 'unknown':
      return 'This access token belongs to no current connection (it was replaced by a newer sign-in). Sign in again.'
  }
}

export function refusalMessage(reason: RefusalReason, at: number | undefined): string {
  switch (reason) {
    case 'revoked':
      return `This API key was revoked (${day(at!)}). Ask the gateway administrator for a new key.`
    case 'expired':
      return `This API key expired at ${day(at!)}. Ask the gateway administrator for a new key.`
    case 'rotated':
      return `This API key was rotated: its previous secret stopped working at ${day(at!)}. Use the new key.`
    case 'unknown':
    // Only OAuth tokens are revoked one by one.
    case 'token_revoked':
      return 'The API key is not valid: no such key'
  }
}

const JSON_HEADERS = { 'content-type': 'application/json' }

function httpRefusal(status: number, code: string, message: string, requestId: string, headers: Record<string, string> = {}) {
  return { status, body: JSON.stringify(httpErrorBody(code, message, requestId)), headers: { ...JSON_HEADERS, ...headers } }
}

export interface RefusalContext {
  requestId: string
  /** The JSON-RPC id of the refused message, or null. */
  rpcId: string | number | null
  limits: LimitsConfig
  /** Set when the credential is an OAuth connection's token: its 401s say where to sign in again. */
  signIn?: SignInHint
}

export function refusalAnswer(refusal: Refusal, context: RefusalContext): RefusalAnswer {
  const { requestId } = context
  const key = 'key' in refusal ? refusal.key : undefined
  switch (refusal.kind) {
    case 'refused': {
      const message = context.signIn ? connectionRefusalMessage(refusal.reason, refusal.at) : refusalMessage(refusal.reason, refusal.at)
      const challenge = bearerChallenge({ error: 'invalid_token', description: message }, context.signIn)
      return { ...httpRefusal(401, 'invalid_token', message, requestId, { 'WWW-Authenticate': challenge }), outcome: 'denied', code: refusal.reason === 'token_revoked' ? 'revoked_token' : `${refusal.reason}_key`, key }
    }
    case 'unavailable':
      return {
        ...httpRefusal(503, 'key_service_unavailable', 'The gateway cannot check this API key right now (the key store is unreachable); retry shortly', requestId, {
          'Retry-After': '1',
        }),
        outcome: 'error',
        code: 'key_service_unavailable',
      }
    case 'policy_invalid':
      return {
        ...httpRefusal(403, 'policy_invalid', "This API key's stored policy is invalid; an administrator must set it again", requestId),
        outcome: 'denied',
        code: 'policy_invalid',
        key,
      }
    case 'ip_not_allowed':
      // The allowed ranges are not listed: they would tell an attacker where to come from.
      return {
        ...httpRefusal(
          403,
          'ip_not_allowed',
          refusal.unknownAddress
            ? 'The client address could not be determined, and this API key is restricted to certain addresses'
            : 'This client address is not allowed to use this API key',
          requestId,
        ),
        outcome: 'denied',
        code: 'ip_not_allowed',
        key,
      }
    case 'rate_limited':
      return { ...rateLimited(refusal, context), outcome: 'denied', code: refusal.scope === 'key' ? 'rate_limited' : 'global_rate_limited', key }
  }
}

function rateLimited(refusal: Extract<Refusal, { kind: 'rate_limited' }>, context: RefusalContext) {
  const seconds = retryAfterSeconds(refusal.retryAfterMs)
  const global = refusal.scope === 'global' ? context.limits.global : null
  const headers =
    refusal.scope === 'global' && global
      ? rateLimitHeaders('global', global, 0, refusal.retryAfterMs)
      : rateLimitHeaders('key', refusal.rate.spec, 0, refusal.retryAfterMs)
  const message =
    refusal.scope === 'key'
      ? `Rate limit exceeded for this API key (${refusal.rate.spec.perMinute} requests per minute, bursts of ` +
        `${refusal.rate.spec.burst}). Retry after ${seconds} s.`
      : `The gateway is at its overall request limit. Retry after ${seconds} s.`
  const body = {
    jsonrpc: '2.0',
    id: context.rpcId,
    error: { code: -32029, message, data: { retry_after_seconds: seconds, scope: refusal.scope, request_id: context.requestId } },
  }
  return { status: 429, body: JSON.stringify(body), headers: { ...JSON_HEADERS, 'Retry-After': String(seconds), ...headers } }
}
