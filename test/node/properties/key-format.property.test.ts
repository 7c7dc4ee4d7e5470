/**
 * Property tests of the API key format (src/keys/key-format.ts), against a reference written here from the format's
 * description: `omk_` + 43 base62 digits of a 256-bit secret + 6 base62 digits of the CRC-32 (IEEE) of `omk_` + secret.
 * The reference computes the CRC bit by bit and the base62 digits by repeated division, so it shares no code with
 * src/lib/encoding.ts (table-driven CRC, BigInt encoder).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { API_KEY_LENGTH, generateApiKey, parseApiKey } from '../../../src/keys/key-format'

const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of ASCII text, one bit at a time. */
function referenceCrc32(ascii: string): number {
  let crc = 0xffffffff
  for (const char of ascii) {
    crc ^= char.charCodeAt(0)
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1
  }
  return (crc ^ 0xffffffff) >>> 0
}

/** `value` in base62, most significant digit first, left-padded with '0' to `width` digits. */
function referenceBase62(value: bigint, width: number): string {
  const digits: string[] = []
  for (let rest = value; rest > 0n; rest /= 62n) digits.unshift(DIGITS[Number(rest % 62n)]!)
  return digits.join('').padStart(width, '0')
}

function referenceKey(secretBytes: Uint8Array): string {
  const secret = referenceBase62(BigInt('0x' + (Buffer.from(secretBytes).toString('hex') || '0')), 43)
  return 'omk_' + secret + referenceBase62(BigInt(referenceCrc32('omk_' + secret)), 6)
}

/** The reference verdict: format first (prefix, length, alphabet), then the checksum. */
function referenceVerdict(candidate: string): 'ok' | 'format' | 'checksum' {
  if (candidate.length !== 53 || !candidate.startsWith('omk_')) return 'format'
  const body = candidate.slice(4)
  if (![...body].every((char) => DIGITS.includes(char))) return 'format'
  const secret = body.slice(0, 43)
  return body.slice(43) === referenceBase62(BigInt(referenceCrc32('omk_' + secret)), 6) ? 'ok' : 'checksum'
}

function verdict(candidate: string): 'ok' | 'format' | 'checksum' {
  const parsed = parseApiKey(candidate)
  return parsed.ok ? 'ok' : parsed.reason
}

const secretBytes = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.constantFrom(new Uint8Array(32), new Uint8Array(32).fill(0xff), Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0))),
)
/** Keys built by the reference from any 32 bytes (generated keys are checked inside the property: they are random). */
const validKey = secretBytes.map(referenceKey)

/** Characters to put into a key: its own alphabet, look-alikes, separators, whitespace, non-ASCII. */
const strangeChar = fc.oneof(
  fc.constantFrom(...DIGITS),
  fc.constantFrom('-', '_', '+', '/', '=', '.', ' ', '\t', '\n', '\0', 'О', 'ο', 'Ｏ', 'İ', 'ı', 'ß', '\u200b', '\ufeff', '😀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
)

/** Every way to break a key by one edit: change, delete or insert a character, swap two, cut or extend it. */
const brokenKey = fc
  .tuple(validKey, fc.nat(), fc.nat(), strangeChar, fc.constantFrom('substitute', 'delete', 'insert', 'swap', 'truncate', 'extend'))
  .map(([key, at, other, char, edit]) => {
    const i = at % key.length
    switch (edit) {
      case 'substitute':
        return { key, broken: key.slice(0, i) + (char === key[i] ? DIGITS[(DIGITS.indexOf(char) + 1) % 62]! : char) + key.slice(i + 1) }
      case 'delete':
        return { key, broken: key.slice(0, i) + key.slice(i + 1) }
      case 'insert':
        return { key, broken: key.slice(0, i) + char + key.slice(i) }
      case 'swap': {
        // Two neighbouring characters of the secret part: CRC-32 detects any change that spans at most 32 bits.
        const j = 4 + (other % 42)
        return { key, broken: key.slice(0, j) + key[j + 1] + key[j] + key.slice(j + 2) }
      }
      case 'truncate':
        return { key, broken: key.slice(0, at % key.length) }
      case 'extend':
        return { key, broken: key + char.repeat(1 + (other % 3)) }
    }
  })
  .filter(({ key, broken }) => broken !== key)

const candidate = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc.string({ unit: fc.constantFrom(...DIGITS), minLength: 49, maxLength: 49 }).map((body) => 'omk_' + body),
  fc.string({ unit: strangeChar, minLength: 49, maxLength: 49 }).map((body) => 'omk_' + body),
  brokenKey.map(({ broken }) => broken),
  validKey.map((key) => key.toUpperCase()),
  validKey,
)

describe('API key format (properties)', () => {
  it('never throws and agrees with the reference on every string: valid, wrong format or wrong checksum', () => {
    fc.assert(
      fc.property(candidate, (text) => {
        expect(verdict(text)).toBe(referenceVerdict(text))
      }),
      { numRuns: 1000 },
    )
  })

  it('accepts every key made from 32 bytes as the format says, and every generated key', () => {
    fc.assert(
      fc.property(validKey, (key) => {
        const generated = generateApiKey().key
        for (const candidate of [key, generated]) {
          expect(candidate).toHaveLength(API_KEY_LENGTH)
          expect(referenceVerdict(candidate)).toBe('ok')
          expect(parseApiKey(candidate)).toEqual({ ok: true, key: candidate })
        }
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a key after any single edit (change, delete, insert, swap), truncation or extension', () => {
    fc.assert(
      fc.property(brokenKey, ({ broken }) => {
        expect(parseApiKey(broken).ok).toBe(false)
      }),
      { numRuns: 1000 },
    )
  })
})
