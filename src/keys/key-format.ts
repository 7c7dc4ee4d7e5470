/**
 * API key format: `omk_` + 43 base62 characters (32 random bytes) + 6 base62 characters of CRC-32 checksum.
 *
 * The fixed prefix lets secret scanners recognise a leaked key; the checksum lets the gateway (and scanners) tell a
 * mistyped key from a wrong one without any database lookup. Pure: no I/O, no clock.
 */
import { base62Encode, bytesToHex, crc32, isBase62, uint32ToBytes } from '../lib/encoding'

export const API_KEY_PREFIX = 'omk_'
/** 32 random bytes need 43 base62 digits (62^43 > 2^256). */
const SECRET_CHARS = 43
/** A 32-bit CRC needs 6 base62 digits (62^6 > 2^32). */
const CHECKSUM_CHARS = 6
export const API_KEY_LENGTH = API_KEY_PREFIX.length + SECRET_CHARS + CHECKSUM_CHARS
/** Characters of the key kept in clear in D1 and logs, to recognise a key without revealing it. */
const DISPLAY_PREFIX_LENGTH = API_KEY_PREFIX.length + 8

function checksumOf(secret: string): string {
  return base62Encode(uint32ToBytes(crc32(API_KEY_PREFIX + secret)), CHECKSUM_CHARS)
}

export interface NewApiKey {
  /** The full key, to be shown once and never stored. */
  key: string
  /** Short, non-secret prefix for display (`omk_` + 8 characters). */
  prefix: string
}

export function generateApiKey(): NewApiKey {
  const secret = base62Encode(crypto.getRandomValues(new Uint8Array(32)), SECRET_CHARS)
  const key = API_KEY_PREFIX + secret + checksumOf(secret)
  return { key, prefix: displayPrefix(key) }
}

export function displayPrefix(key: string): string {
  return key.slice(0, DISPLAY_PREFIX_LENGTH)
}

export type ApiKeyParseResult = { ok: true; key: string } | { ok: false; reason: 'format' | 'checksum' }

/** Checks prefix, length, alphabet and checksum. A key that passes may still be unknown, revoked or expired. */
export function parseApiKey(candidate: string): ApiKeyParseResult {
  if (candidate.length !== API_KEY_LENGTH || !candidate.startsWith(API_KEY_PREFIX)) return { ok: false, reason: 'format' }
  const body = candidate.slice(API_KEY_PREFIX.length)
  if (!isBase62(body)) return { ok: false, reason: 'format' }
  const secret = body.slice(0, SECRET_CHARS)
  if (body.slice(SECRET_CHARS) !== checksumOf(secret)) return { ok: false, reason: 'checksum' }
  return { ok: true, key: candidate }
}

/** Public identifier of a key, used by the CLI and in audit records: `key_` + 16 hex characters. */
export function generateKeyId(): string {
  return 'key_' + bytesToHex(crypto.getRandomValues(new Uint8Array(8)))
}

const KEY_LIKE = new RegExp(`${API_KEY_PREFIX}[0-9A-Za-z]+`, 'g')

/** Text a client sent, fit to echo in an error: anything shaped like an API key is cut to its `omk_`. */
export function withoutApiKeys(text: string): string {
  return text.replace(KEY_LIKE, `${API_KEY_PREFIX}…`)
}
