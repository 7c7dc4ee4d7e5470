/**
 * Signatures of the admin channel (CLI → deployment), shared by the Worker and the CLI.
 *
 * A request is signed with HMAC-SHA256 under ADMIN_SECRET over `<unix seconds>\n<METHOD>\n<path>\n<hex SHA-256 of
 * the body>`, sent as `X-Admin-Timestamp` and `X-Admin-Signature: v1=<hex>`. The secret never travels; a signature
 * is valid for ±5 minutes and only for that method, path and body. A replayed request within that window can only
 * repeat what it asked (reload a key from D1), which is harmless by design: the channel carries no data, it only
 * tells the key's object to read D1 again.
 */
import { bytesToHex, hexToBytes } from '../lib/encoding'
import { sha256Hex } from '../lib/crypto'

export const ADMIN_TIMESTAMP_HEADER = 'X-Admin-Timestamp'
export const ADMIN_SIGNATURE_HEADER = 'X-Admin-Signature'
export const ADMIN_MAX_SKEW_SECONDS = 300
/** Shorter secrets are refused: the secret is all that stands between the Internet and the admin routes. */
export const ADMIN_SECRET_MIN_LENGTH = 32

const encoder = new TextEncoder()

async function hmacKey(secret: string, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', new Uint8Array(encoder.encode(secret)), { name: 'HMAC', hash: 'SHA-256' }, false, [usage])
}

async function canonical(timestamp: string, method: string, path: string, body: string): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(encoder.encode(`${timestamp}\n${method.toUpperCase()}\n${path}\n${await sha256Hex(body)}`))
}

export async function signAdminRequest(
  secret: string,
  method: string,
  path: string,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const timestamp = String(nowSeconds)
  const signature = await crypto.subtle.sign('HMAC', await hmacKey(secret, 'sign'), await canonical(timestamp, method, path, body))
  return { [ADMIN_TIMESTAMP_HEADER]: timestamp, [ADMIN_SIGNATURE_HEADER]: `v1=${bytesToHex(new Uint8Array(signature))}` }
}

export type AdminVerdict = 'ok' | 'missing' | 'stale' | 'bad_signature'

/** Checks a signed admin request; the comparison is WebCrypto's own (constant time). */
export async function verifyAdminRequest(
  secret: string,
  headers: Headers,
  method: string,
  path: string,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<AdminVerdict> {
  const timestamp = headers.get(ADMIN_TIMESTAMP_HEADER)
  const signature = headers.get(ADMIN_SIGNATURE_HEADER)
  if (!timestamp || !signature) return 'missing'
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowSeconds - Number(timestamp)) > ADMIN_MAX_SKEW_SECONDS) return 'stale'
  const match = /^v1=([0-9a-f]{64})$/.exec(signature)
  if (!match) return 'bad_signature'
  const valid = await crypto.subtle.verify(
    'HMAC',
    await hmacKey(secret, 'verify'),
    hexToBytes(match[1]!),
    await canonical(timestamp, method, path, body),
  )
  return valid ? 'ok' : 'bad_signature'
}
