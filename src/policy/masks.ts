/**
 * Field masks (policy version 2): a field the key may read only masked. A masked value keeps just enough to be
 * useful and never the rest:
 *
 * | mask      | "jane.doe@acme.com" | "+32 475 12 34 56"  | "BE0477472701"  | 1234.5       |
 * |-----------|---------------------|--------------------|-----------------|--------------|
 * | `partial` | `j*******@acme.com` | `+3************56` | `BE********01`  | `"1****5"`   |
 * | `last4`   | `*************.com` | `************4 56` | `********2701`  | `"******"`   |
 * | `hash`    | `h:` + 16 hex       | `h:` + 16 hex      | `h:` + 16 hex   | `h:` + 16 hex|
 * | `redact`  | `[redacted]`        | `[redacted]`       | `[redacted]`    | `[redacted]` |
 *
 * - `partial` keeps an e-mail's first character (unless it is the only one) and domain, and of anything else the first and last characters
 *   (one of each below 8 characters, two above; nothing below 4 characters);
 * - `last4` keeps the last four characters (nothing below 8 characters: four would be half of it or more);
 * - `hash` is HMAC-SHA256 keyed per key (derived from the gateway's credentials key and the key id): equal values
 *   give equal hashes for one key, so an agent can still group or match, but the hash cannot be reversed without the
 *   gateway's secret, nor joined with another key's;
 * - `redact` gives the same text for every value, empty or not.
 *
 * An empty value (`false`, `null`, `""`) stays empty under `partial`, `last4` and `hash` (the agent learns the field
 * is unset, as the shape of a masked value tells it is set); `redact` hides even that. The mask length never
 * depends on the hidden middle's content, only on the value's length, as a screen's bullet points do.
 *
 * Masked fields are output-only: the guard refuses them in domains, orders, groupings, aggregates and values,
 * which would reveal or change the clear value (src/guard/visibility.ts).
 */
import { bytesToHex } from '../lib/encoding'

export const MASKS = ['partial', 'last4', 'hash', 'redact'] as const
export type MaskKind = (typeof MASKS)[number]

export const REDACTED = '[redacted]'
const HIDDEN = '*'

/** A keyed hash function for one key (`hash` masks). */
export type MaskHasher = (text: string) => Promise<string>

/** The per-key hasher: HMAC-SHA256 (WebCrypto) under `key`, derived per API key by the caller; 16 hex characters shown. */
export function createMaskHasher(key: CryptoKey): MaskHasher {
  const encoder = new TextEncoder()
  return async (text) => `h:${bytesToHex(new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)))).slice(0, 16)}`
}

function isEmpty(value: unknown): boolean {
  return value === false || value === null || value === undefined || value === ''
}

/** The text a non-empty value is masked from: strings as they are, numbers as Odoo would print them. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value)
}

function partial(text: string): string {
  const chars = [...text]
  const at = text.lastIndexOf('@')
  if (at > 0 && at < text.length - 1) {
    // An e-mail: the first character of the local part, and the domain.
    const local = [...text.slice(0, at)]
    if (local.length === 1) return `${HIDDEN}${text.slice(at)}`
    return `${local[0]}${HIDDEN.repeat(local.length - 1)}${text.slice(at)}`
  }
  if (chars.length < 4) return HIDDEN.repeat(chars.length)
  const keep = chars.length < 8 ? 1 : 2
  return chars.slice(0, keep).join('') + HIDDEN.repeat(chars.length - 2 * keep) + chars.slice(-keep).join('')
}

function last4(text: string): string {
  const chars = [...text]
  if (chars.length < 8) return HIDDEN.repeat(chars.length)
  return HIDDEN.repeat(chars.length - 4) + chars.slice(-4).join('')
}

/** A value as a key with `mask` on its field sees it. */
export async function maskValue(value: unknown, mask: MaskKind, hasher: MaskHasher): Promise<unknown> {
  if (mask === 'redact') return REDACTED
  if (isEmpty(value)) return value
  const text = textOf(value)
  switch (mask) {
    case 'partial':
      return partial(text)
    case 'last4':
      return last4(text)
    case 'hash':
      return hasher(text)
  }
}
