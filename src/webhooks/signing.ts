/**
 * Signing of outgoing webhooks (WebCrypto only). Every delivery carries two kinds of signature, so off-the-shelf
 * verifiers of either kind accept it:
 *
 * - Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
 *   "<id>.<timestamp>.<body>">`, keyed with the secret's decoded bytes. While a secret is being rotated both
 *   secrets sign, as two space-separated `v1,` entries.
 * - GitHub style: `X-Odoo-MCP-Signature: sha256=<hex HMAC-SHA256 of the raw body>` keyed with the whole secret
 *   string (the newest secret; `X-Odoo-MCP-Signature-Previous` carries the previous one's during the overlap).
 */
import { base64ToBytes, bytesToBase64, bytesToHex } from '../lib/encoding'

export const SECRET_PREFIX = 'whsec_'
/** Random bytes in a generated secret (Standard Webhooks asks for 24 to 64). */
const SECRET_BYTES = 32

const encoder = new TextEncoder()

export function generateWebhookSecret(): string {
  return SECRET_PREFIX + bytesToBase64(crypto.getRandomValues(new Uint8Array(SECRET_BYTES)))
}

/** `whsec_` + base64 of 24 to 64 bytes; anything else is refused when a subscription is created. */
export function isValidWebhookSecret(secret: string): boolean {
  if (!secret.startsWith(SECRET_PREFIX)) return false
  try {
    const bytes = base64ToBytes(secret.slice(SECRET_PREFIX.length))
    return bytes.length >= 24 && bytes.length <= 64
  } catch {
    return false
  }
}

async function hmac(key: Uint8Array<ArrayBuffer>, data: string): Promise<Uint8Array> {
  const cryptoKey = await crypto.subtle.importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
  return new Uint8Array(await crypto.subtle.sign('HMAC', cryptoKey, encoder.encode(data)))
}

/**
 * Headers for one delivery attempt. `secrets` is newest first: the current secret, then the previous one while its
 * overlap lasts.
 */
export async function signatureHeaders(secrets: string[], id: string, timestampSeconds: number, body: string): Promise<Record<string, string>> {
  const [current, previous] = secrets
  if (!current) throw new Error('a subscription needs a secret to sign with')
  const standard = await Promise.all(
    secrets.map(async (secret) => `v1,${bytesToBase64(await hmac(base64ToBytes(secret.slice(SECRET_PREFIX.length)), `${id}.${timestampSeconds}.${body}`))}`),
  )
  const headers: Record<string, string> = {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': standard.join(' '),
    'X-Odoo-MCP-Signature': `sha256=${bytesToHex(await hmac(new Uint8Array(encoder.encode(current)), body))}`,
  }
  if (previous) headers['X-Odoo-MCP-Signature-Previous'] = `sha256=${bytesToHex(await hmac(new Uint8Array(encoder.encode(previous)), body))}`
  return headers
}
