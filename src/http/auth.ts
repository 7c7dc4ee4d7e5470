/**
 * Bearer authentication and admission: every POST /mcp passes here before its body is read.
 *
 *   header shape → key format and checksum (no I/O: a typo or a random string never reaches D1 or an object)
 *   → SHA-256 → key id (keys/key-directory.ts: per-isolate map, D1 on a miss)
 *   → the key's Durable Object decides (keys/key-object.ts): secret, revoked/expired/rotated, client IP, key and
 *     global rate limits.
 *
 * Every refusal of a presented key is a 401 of the same shape (`invalid_token`, RFC 6750 challenge) whose message
 * says what to do; the challenge carries the same message as `error_description`, for clients that show it. A
 * request without any Authorization header gets the bare challenge (`Bearer realm="odoo-mcp-edge"`) and a
 * `missing_token` body. If the key object cannot answer, the request is refused (503), never let through.
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { Admission, KeyIdentity, RefusalReason } from '../keys/admission'
import { keyIdForHash } from '../keys/key-directory'
import { API_KEY_PREFIX, displayPrefix, parseApiKey } from '../keys/key-format'
import { sha256Hex } from '../lib/crypto'
import { retryObjectCallOnce } from '../lib/object-retry'
import { keyObject } from '../keys/placement'
import { loadLimitsConfig } from '../limits/config'
import { rateLimitHeaders, retryAfterSeconds } from '../limits/headers'
import { logError } from '../log'
import { httpError } from './errors'
import type { GatewayEnv } from './types'

/** The realm every challenge names (RFC 6750 §3). */
export const REALM = 'odoo-mcp-edge'

/** Longest `error_description` put in a challenge; the JSON body has the full message. */
const MAX_DESCRIPTION_CHARS = 300

/**
 * Reduces text to what an RFC 6750 `error_description` may hold (§3: %x20-21 / %x23-5B / %x5D-7E, printable ASCII
 * without `"` and `\`), so nothing in it can end the quoted string, split the header or smuggle a parameter:
 * quotes become `'`, backslashes `/`, line breaks and other controls spaces, any other character `?`; at most
 * {@link MAX_DESCRIPTION_CHARS} characters. The descriptions are the gateway's own messages (they never contain the
 * presented key or other client text); this is the guarantee that keeps it so if one ever did.
 */
export function challengeDescription(text: string): string {
  const clean = text
    .replace(/…/g, '...')
    .replace(/["\u201C\u201D]/g, "'")
    .replace(/\\/g, '/')
    .replace(/[\u0000-\u001F\u007F]+/g, ' ')
    .replace(/[^\u0020-\u007E]/gu, '?')
    .replace(/ {2,}/g, ' ')
    .trim()
  return clean.length <= MAX_DESCRIPTION_CHARS ? clean : `${clean.slice(0, MAX_DESCRIPTION_CHARS - 3)}...`
}

/** An RFC 6750 §3.1 error code (the gateway uses `invalid_token` only) and the message saying why. */
export interface BearerRefusal {
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope'
  description: string
}

/**
 * The `WWW-Authenticate` value of a 401 (RFC 6750 §3). A request that presented no credential gets the bare
 * challenge: §3.1 says such a response SHOULD NOT carry an error code or other error information (the client may
 * simply not have known a key was needed; the JSON body says what to send). A refused credential gets
 * `error="invalid_token"` and the refusal message as `error_description`.
 */
export function bearerChallenge(refusal?: BearerRefusal): string {
  if (!refusal) return `Bearer realm="${REALM}"`
  return `Bearer realm="${REALM}", error="${refusal.error}", error_description="${challengeDescription(refusal.description)}"`
}

function challenge(refusal?: BearerRefusal): Record<string, string> {
  return { 'WWW-Authenticate': bearerChallenge(refusal) }
}

/** Something that looks like one of our keys, anywhere in the URL. */
const KEY_IN_URL = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]{16,}`)

/** How long the Worker waits for the key object before refusing with 503. */
const ADMIT_TIMEOUT_MS = 10_000

/** The client address: `CF-Connecting-IP` only (set by Cloudflare's edge; X-Forwarded-For and friends are ignored). */
export function clientAddress(request: Request): string | undefined {
  return request.headers.get('cf-connecting-ip') ?? undefined
}

const day = (ms: number) => new Date(ms).toISOString()

function refusalMessage(reason: RefusalReason, at: number | undefined): string {
  switch (reason) {
    case 'revoked':
      return `This API key was revoked (${day(at!)}). Ask the gateway administrator for a new key.`
    case 'expired':
      return `This API key expired at ${day(at!)}. Ask the gateway administrator for a new key.`
    case 'rotated':
      return `This API key was rotated: its previous secret stopped working at ${day(at!)}. Use the new key.`
    case 'unknown':
      return 'The API key is not valid: no such key'
  }
}

/** Puts who made a refused request on its audit record (the key was found: its chain gets the record). */
function identify(c: Context<GatewayEnv>, key: KeyIdentity | undefined): void {
  if (!key) return
  const record = c.get('audit')?.record
  if (!record) return
  record.keyId = key.id
  record.keyName = key.name
  record.keyPrefix = key.prefix
  record.odooUser = key.odooLogin
}

function unauthorized(c: Context<GatewayEnv>, message: string): Response {
  return httpError(c, 401, 'invalid_token', message, challenge({ error: 'invalid_token', description: message }))
}

function unavailable(c: Context<GatewayEnv>, why: string): Response {
  return httpError(c, 503, 'key_service_unavailable', `The gateway cannot check this API key right now (${why}); retry shortly`, {
    'Retry-After': '1',
  })
}

/** A JSON-RPC error id for the 429 body: the request's own id when the body is small and readable, else null. */
async function requestIdOf(request: Request): Promise<string | number | null> {
  const length = Number(request.headers.get('content-length') ?? 'NaN')
  if (!(length > 0 && length <= 64 * 1024)) return null
  try {
    const message = JSON.parse(await request.clone().text()) as { id?: unknown }
    return typeof message.id === 'string' || typeof message.id === 'number' ? message.id : null
  } catch {
    return null
  }
}

async function rateLimited(c: Context<GatewayEnv>, admission: Extract<Admission, { kind: 'rate_limited' }>): Promise<Response> {
  c.get('audit')?.outcome('denied', admission.scope === 'key' ? 'rate_limited' : 'global_rate_limited')
  const seconds = retryAfterSeconds(admission.retryAfterMs)
  const global = admission.scope === 'global' ? loadLimitsConfig(c.env).global : null
  const headers =
    admission.scope === 'global' && global
      ? rateLimitHeaders('global', global, 0, admission.retryAfterMs)
      : rateLimitHeaders('key', admission.rate.spec, 0, admission.retryAfterMs)
  const message =
    admission.scope === 'key'
      ? `Rate limit exceeded for this API key (${admission.rate.spec.perMinute} requests per minute, bursts of ` +
        `${admission.rate.spec.burst}). Retry after ${seconds} s.`
      : `The gateway is at its overall request limit. Retry after ${seconds} s.`
  return c.json(
    {
      jsonrpc: '2.0',
      id: await requestIdOf(c.req.raw),
      error: { code: -32029, message, data: { retry_after_seconds: seconds, scope: admission.scope, request_id: c.get('requestId') } },
    },
    429,
    { 'Retry-After': String(seconds), ...headers },
  )
}

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
    let admission: Admission
    try {
      const keyId = await keyIdForHash(c.env.DB, keyHash)
      if (keyId === null) {
        c.get('audit')?.outcome('denied', 'unknown_key')
        return unauthorized(c, refusalMessage('unknown', undefined))
      }
      const input = { keyId, keyHash, clientAddress: clientAddress(c.req.raw) }
      // The RPC stub's inferred type mangles unions; the object returns exactly an Admission.
      const admit = () => keyObject(c.env, keyId).admit(input) as unknown as Promise<Admission>
      // If the object restarted under the first call and that call had already taken a token, the request costs two.
      // A silent object (timeout) is not asked again.
      admission = await retryObjectCallOnce(() => withTimeout(admit(), ADMIT_TIMEOUT_MS), (error) => error instanceof AdmitTimeout)
    } catch (error) {
      logError(error, 'admission', c.get('requestId'))
      return unavailable(c, error instanceof AdmitTimeout ? 'the key service timed out' : 'the key service is unreachable or overloaded')
    }

    if (admission.kind !== 'admitted') identify(c, 'key' in admission ? admission.key : undefined)
    switch (admission.kind) {
      case 'refused':
        c.get('audit')?.outcome('denied', `${admission.reason}_key`)
        return unauthorized(c, refusalMessage(admission.reason, admission.at))
      case 'unavailable':
        return unavailable(c, 'the key store is unreachable')
      case 'policy_invalid':
        return httpError(c, 403, 'policy_invalid', "This API key's stored policy is invalid; an administrator must set it again")
      case 'ip_not_allowed':
        // The allowed ranges are not listed: they would tell an attacker where to come from.
        return httpError(
          c,
          403,
          'ip_not_allowed',
          admission.unknownAddress
            ? 'The client address could not be determined, and this API key is restricted to certain addresses'
            : 'This client address is not allowed to use this API key',
        )
      case 'rate_limited':
        return rateLimited(c, admission)
      case 'admitted': {
        c.set('apiKey', admission.key)
        c.get('audit')?.key(admission.key)
        const { spec, remaining, resetMs } = admission.rate
        for (const [name, value] of Object.entries(rateLimitHeaders('key', spec, remaining, resetMs))) c.header(name, value)
        return next()
      }
    }
  }
}

class AdmitTimeout extends Error {}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new AdmitTimeout()), ms)))
  return Promise.race([promise, timeout]).finally(() => timer !== undefined && clearTimeout(timer))
}
