/**
 * Signatures of the admin API (CLI → deployment), shared by the Worker and the CLI (docs/ADMIN-API.md).
 *
 * A request is signed with HMAC-SHA256 under ADMIN_SECRET over
 *
 *     odoo-mcp-admin-v2 \n <unix seconds> \n <nonce> \n <METHOD> \n <host> \n <path?query> \n <actor> \n <hex SHA-256 of the body>
 *
 * sent as `X-Admin-Timestamp`, `X-Admin-Nonce`, `X-Admin-Actor` (optional) and `X-Admin-Signature: v2=<hex>`.
 * The secret never travels. A signature is valid for ±5 minutes, for that deployment (host), method, path, query
 * and body only, and once: the gateway remembers each nonce for the whole window (admin/v1/ledger.ts), so a captured
 * request cannot be replayed. The actor is the name the CLI signs under (`--as`, or the OS user): self-asserted by
 * whoever holds the secret, but bound to the request, so it cannot be changed in transit.
 *
 * Version 1 (no nonce, no host, path without query) is refused: a captured v1 request could be replayed for
 * 5 minutes.
 */
import { bytesToHex, hexToBytes } from '../lib/encoding'
import { sha256Hex } from '../lib/crypto'

export const ADMIN_TIMESTAMP_HEADER = 'X-Admin-Timestamp'
export const ADMIN_NONCE_HEADER = 'X-Admin-Nonce'
export const ADMIN_ACTOR_HEADER = 'X-Admin-Actor'
export const ADMIN_SIGNATURE_HEADER = 'X-Admin-Signature'
export const ADMIN_MAX_SKEW_SECONDS = 300
/** Shorter secrets are refused: the secret is all that stands between the Internet and the admin API. */
export const ADMIN_SECRET_MIN_LENGTH = 32
/** 16-64 URL-safe characters; the CLI sends 22 (128 random bits). */
export const ADMIN_NONCE = /^[A-Za-z0-9_-]{16,64}$/
/** What an actor name may be: printable, no separators that could fake another field of the canonical text. */
export const ADMIN_ACTOR = /^[\p{L}\p{N}._@+-]{1,64}$/u

const SCHEME = 'odoo-mcp-admin-v2'
const encoder = new TextEncoder()

async function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new Uint8Array(encoder.encode(secret)), { name: 'HMAC', hash: 'SHA-256' }, false, [usage])
}

export interface SignedRequestParts {
  method: string
  /** host[:port] as in the URL the request is sent to, lower case. */
  host: string
  /** Path and query string exactly as sent (`/admin/v1/keys?limit=10`). */
  pathWithQuery: string
  /** The body: its UTF-8 text when signing, the bytes as received when verifying (so nothing decoding drops, a BOM or a malformed byte, goes unsigned). */
  body: string | Uint8Array<ArrayBuffer>
  actor?: string
}

async function bodyHash(body: string | Uint8Array<ArrayBuffer>): Promise<string> {
  if (typeof body === 'string') return sha256Hex(body)
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', body)))
}

async function canonical(timestamp: string, nonce: string, parts: SignedRequestParts): Promise<Uint8Array<ArrayBuffer>> {
  const text = [SCHEME, timestamp, nonce, parts.method.toUpperCase(), parts.host.toLowerCase(), parts.pathWithQuery, parts.actor ?? '', await bodyHash(parts.body)]
  return new Uint8Array(encoder.encode(text.join('\n')))
}

function newNonce(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The headers that sign one request. */
export async function signAdminRequest(
  secret: string,
  parts: SignedRequestParts,
  nowSeconds = Math.floor(Date.now() / 1000),
  nonce = newNonce(),
): Promise<Record<string, string>> {
  const timestamp = String(nowSeconds)
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret, 'sign'), await canonical(timestamp, nonce, parts))
  return {
    [ADMIN_TIMESTAMP_HEADER]: timestamp,
    [ADMIN_NONCE_HEADER]: nonce,
    ...(parts.actor ? { [ADMIN_ACTOR_HEADER]: parts.actor } : {}),
    [ADMIN_SIGNATURE_HEADER]: `v2=${bytesToHex(new Uint8Array(signature))}`,
  }
}

export type AdminVerdict =
  | { ok: true; nonce: string; timestamp: number; actor?: string }
  | { ok: false; reason: 'missing' | 'stale' | 'bad_signature' | 'old_version' | 'bad_nonce' | 'bad_actor' }

/**
 * Checks a signed admin request (not the nonce's freshness: the caller claims it once the signature holds, so
 * unsigned requests cannot fill the nonce store). The comparison is WebCrypto's own (constant time).
 */
export async function verifyAdminRequest(
  secret: string,
  headers: Headers,
  parts: Omit<SignedRequestParts, 'actor'>,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AdminVerdict> {
  const timestamp = headers.get(ADMIN_TIMESTAMP_HEADER)
  const signature = headers.get(ADMIN_SIGNATURE_HEADER)
  const nonce = headers.get(ADMIN_NONCE_HEADER)
  const actor = headers.get(ADMIN_ACTOR_HEADER) ?? undefined
  if (!timestamp || !signature) return { ok: false, reason: 'missing' }
  if (/^v1=/.test(signature)) return { ok: false, reason: 'old_version' }
  if (!nonce || !ADMIN_NONCE.test(nonce)) return { ok: false, reason: 'bad_nonce' }
  if (actor !== undefined && !ADMIN_ACTOR.test(actor)) return { ok: false, reason: 'bad_actor' }
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > ADMIN_MAX_SKEW_SECONDS) return { ok: false, reason: 'stale' }
  const match = /^v2=([0-9a-f]{64})$/.exec(signature)
  if (!match) return { ok: false, reason: 'bad_signature' }
  const valid = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret, 'verify'),
    hexToBytes(match[1]!),
    await canonical(timestamp, nonce, { ...parts, ...(actor ? { actor } : {}) }),
  )
  return valid ? { ok: true, nonce, timestamp: Number(timestamp), ...(actor ? { actor } : {}) } : { ok: false, reason: 'bad_signature' }
}
