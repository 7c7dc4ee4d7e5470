/**
 * Receiver helper: checks a webhook sent by odoo-mcp-edge. No dependencies, WebCrypto only, so the same file runs in
 * Node 20+, Workers, Deno and browsers.
 *
 *   const result = await verifyWebhook(secret, request.headers, rawBody, { toleranceSeconds: 300 })
 *   if (!result.ok) return new Response(result.reason, { status: 400 })
 *
 * It checks the Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64>`,
 * keyed with the secret's decoded bytes); any one `v1` entry matching is enough (two are sent while a secret is being
 * rotated). Comparison is constant-time (WebCrypto `verify`). The timestamp must be within `toleranceSeconds`
 * (default 300) of now, and a `webhook-id` already accepted within that window is refused as a replay (kept in
 * memory per process; pass `seen` to share the memory, e.g. in a database, across processes).
 */

export interface VerifyOptions {
  /** How far the timestamp may be from now, in seconds. Default 300. */
  toleranceSeconds?: number
  /** Current time in seconds (tests). */
  nowSeconds?: number
  /**
   * Replay memory: returns true if `id` was already accepted, and remembers it until `expiresAtSeconds`. Default: an
   * in-memory map of this process.
   */
  seen?: (id: string, expiresAtSeconds: number) => boolean | Promise<boolean>
}

export type VerifyResult =
  | { ok: true; id: string; timestamp: number }
  | { ok: false; reason: 'missing_headers' | 'bad_secret' | 'stale_timestamp' | 'bad_signature' | 'replayed' }

type HeaderSource = Headers | Record<string, string | string[] | undefined>

const SECRET_PREFIX = 'whsec_'
const encoder = new TextEncoder()

function header(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined
  const record = headers as Record<string, string | string[] | undefined>
  const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name)
  const value = key === undefined ? undefined : record[key]
  return Array.isArray(value) ? value[0] : value
}

function base64ToBytes(text: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    const binary = atob(text)
    const bytes = new Uint8Array(binary.length)
    for (let index = 0; index < binary.length; index++) bytes[index] = binary.charCodeAt(index)
    return bytes
  } catch {
    return undefined
  }
}

const memory = new Map<string, number>()

function rememberInMemory(id: string, expiresAtSeconds: number): boolean {
  const now = Date.now() / 1000
  if (memory.size > 10_000) for (const [key, expires] of memory) if (expires < now) memory.delete(key)
  const known = memory.get(id)
  if (known !== undefined && known >= now) return true
  memory.set(id, expiresAtSeconds)
  return false
}

export async function verifyWebhook(
  secret: string,
  headers: HeaderSource,
  rawBody: string | Uint8Array,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  const id = header(headers, 'webhook-id')
  const timestampText = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (!id || !timestampText || !signatures) return { ok: false, reason: 'missing_headers' }
  const keyBytes = base64ToBytes(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret)
  if (!keyBytes || keyBytes.length < 16) return { ok: false, reason: 'bad_secret' }

  const tolerance = options.toleranceSeconds ?? 300
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000)
  const timestamp = Number(timestampText)
  if (!/^\d{1,12}$/.test(timestampText) || Math.abs(now - timestamp) > tolerance) return { ok: false, reason: 'stale_timestamp' }

  const body = typeof rawBody === 'string' ? rawBody : new TextDecoder().decode(rawBody)
  const key = await crypto.subtle.importKey('raw', keyBytes, { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
  const signed = encoder.encode(`${id}.${timestampText}.${body}`)
  let valid = false
  for (const entry of signatures.split(' ')) {
    const [version, value] = entry.split(',', 2)
    if (version !== 'v1' || !value) continue
    const signature = base64ToBytes(value)
    if (signature && (await crypto.subtle.verify('HMAC', key, signature, signed))) valid = true
  }
  if (!valid) return { ok: false, reason: 'bad_signature' }
  const replayed = await (options.seen ?? rememberInMemory)(id, timestamp + tolerance)
  if (replayed) return { ok: false, reason: 'replayed' }
  return { ok: true, id, timestamp }
}
