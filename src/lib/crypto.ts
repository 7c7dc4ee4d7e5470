/**
 * WebCrypto helpers shared by the Worker and the CLI: hashing of API keys and AES-256-GCM encryption of the secrets
 * stored in D1 (Odoo credentials of keys and connections, webhook signing secrets).
 *
 * The sealing key is a ring (docs/KEY-LIFECYCLE.md, "Rotating CREDENTIALS_KEY"): `CREDENTIALS_KEY` seals everything
 * new; `CREDENTIALS_KEYS_PREVIOUS` (comma-separated) lists older keys that still open what they sealed, until
 * `odoo-mcp credentials reseal` has moved it under the current one. A key's id is derived from the key itself (the
 * first 8 hex characters of the SHA-256 of its 32 raw bytes), so there is nothing to configure, and an operator can
 * compute it: `echo KEY | base64 -d | sha256sum | cut -c1-8`.
 *
 * Sealed formats:
 *   v2.<key id>.<iv>.<ciphertext>   written since key rings: the key id says which key opens it
 *   v1.<iv>.<ciphertext>            the first format: opened by trying the ring's keys, the current one first
 * In both the associated data is the row id (`context`), so a value copied onto another row does not open.
 */
import { base64ToBytes, bytesToBase64, bytesToHex } from './encoding'

const encoder = new TextEncoder()

export async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))
}

/** The format written; v1 is still read. */
const SEALED_VERSION = 'v2'
const LEGACY_VERSION = 'v1'
/** 96-bit IV: the size GCM is specified for; random per encryption. */
const IV_BYTES = 12
/** Hex characters of a key id: 32 bits, enough to tell a handful of keys apart (a collision is refused at import). */
const KEY_ID_CHARS = 8
const KEY_ID = /^[0-9a-f]{8}$/

interface RingKey {
  id: string
  key: CryptoKey
}

interface Ring {
  current: RingKey
  /** Older keys, for opening only, in the order configured. */
  previous: RingKey[]
}

/**
 * The ring of each key `importCredentialsKey` returned. The key handed out is the current key itself (a real
 * CryptoKey, so every `CryptoKey` annotation in callers stays true); the ring travels with it here.
 */
const rings = new WeakMap<CryptoKey, Ring>()

function ringOf(key: CryptoKey): Ring {
  const ring = rings.get(key)
  if (!ring) throw new Error('this CryptoKey was not made by importCredentialsKey, so it has no key id')
  return ring
}

/** Why a sealed value could not be opened. Carries no secret: the key id is public, the message names no value. */
export type SealedSecretProblem =
  /** v2, sealed under a key that is not in CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS. */
  | 'unknown_key_id'
  /** v2 under a configured key, but it does not open: altered, or copied from another row. */
  | 'does_not_open'
  /** v1 (no key id), and no key of the ring opens it. */
  | 'no_key_opens'
  /** Not a sealed value at all. */
  | 'malformed'

export class SealedSecretError extends Error {
  override name = 'SealedSecretError'
  constructor(
    readonly problem: SealedSecretProblem,
    /** The key id the value names (v2), or null. */
    readonly keyId: string | null,
    message: string,
  ) {
    super(message)
  }
}

/** Raw key bytes from base64, with a message that names the setting (never the value). */
function decodeKey(secretBase64: string, name: string): Uint8Array<ArrayBuffer> {
  let raw: Uint8Array<ArrayBuffer>
  try {
    raw = base64ToBytes(secretBase64)
  } catch {
    throw new Error(`${name} is not valid base64`)
  }
  if (raw.length !== 32) throw new Error(`${name} must decode to 32 bytes, not ${raw.length}`)
  return raw
}

async function ringKey(raw: Uint8Array<ArrayBuffer>): Promise<RingKey> {
  const id = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', raw))).slice(0, KEY_ID_CHARS)
  return { id, key: await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']) }
}

/**
 * Imports `CREDENTIALS_KEY` (base64 of exactly 32 bytes) as a non-extractable AES-256-GCM key, with the older keys
 * of `CREDENTIALS_KEYS_PREVIOUS` (comma-separated, same form) in its ring: {@link sealSecret} seals under the
 * current key, {@link openSecret} opens under any of them. A previous key equal to the current one is ignored.
 * The answer is the current key itself (a real CryptoKey; its ring is kept beside it), so callers typed `CryptoKey`
 * and the call shapes `sealSecret(key, text, id)` / `openSecret(key, sealed, id)` stay as they were.
 * @throws Error with a message fit for an operator when a key is missing, malformed or the wrong size.
 */
export async function importCredentialsKey(secretBase64: string | undefined, previousBase64?: string): Promise<CryptoKey> {
  if (!secretBase64) throw new Error('CREDENTIALS_KEY is not set (base64 of 32 random bytes)')
  const currentRaw = decodeKey(secretBase64.trim(), 'CREDENTIALS_KEY')
  const current = await ringKey(currentRaw)
  const previous: RingKey[] = []
  // Raw bytes by key id, only while importing: the same key twice is harmless, two keys with one id are not.
  const seen = new Map([[current.id, bytesToBase64(currentRaw)]])
  for (const [index, entry] of (previousBase64 ?? '').split(',').map((text) => text.trim()).entries()) {
    if (entry === '') continue
    const raw = decodeKey(entry, `CREDENTIALS_KEYS_PREVIOUS entry ${index + 1}`)
    const key = await ringKey(raw)
    const known = seen.get(key.id)
    if (known === bytesToBase64(raw)) continue
    // 1 in 4 billion for two keys, but then a v2 value would not say which one sealed it.
    if (known !== undefined) throw new Error(`CREDENTIALS_KEYS_PREVIOUS entry ${index + 1} has the key id ${key.id} of another key: generate a new key`)
    seen.set(key.id, bytesToBase64(raw))
    previous.push(key)
  }
  rings.set(current.key, { current, previous })
  return current.key
}

/** Generates a fresh `CREDENTIALS_KEY` value. */
export function generateCredentialsKey(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))
}

/** The key id of a `CREDENTIALS_KEY` value (base64 of 32 bytes), as sealed values name it. */
export async function credentialsKeyId(secretBase64: string): Promise<string> {
  return (await ringKey(decodeKey(secretBase64.trim(), 'CREDENTIALS_KEY'))).id
}

/** The ids of a ring's keys: the current one, and the previous ones in their configured order. */
export function ringKeyIds(key: CryptoKey): { current: string; previous: string[] } {
  const ring = ringOf(key)
  return { current: ring.current.id, previous: ring.previous.map((one) => one.id) }
}

let cachedRing: { current: string; previous: string | undefined; key: Promise<CryptoKey> } | undefined

/**
 * The ring of the Worker's bindings, imported once per isolate (and again if a binding changes). A failed import is
 * kept too: it fails the same way until the configuration changes (a deploy).
 */
export function credentialsKeyRing(env: { CREDENTIALS_KEY: string; CREDENTIALS_KEYS_PREVIOUS?: string }): Promise<CryptoKey> {
  const { CREDENTIALS_KEY: current, CREDENTIALS_KEYS_PREVIOUS: previous } = env
  if (cachedRing?.current !== current || cachedRing.previous !== previous) {
    cachedRing = { current, previous, key: importCredentialsKey(current, previous) }
  }
  return cachedRing.key
}

/**
 * Encrypts a secret under the ring's current key. `context` (the row's id: key, connection or subscription) is bound
 * as additional authenticated data, so a sealed secret copied onto another row does not decrypt.
 */
export async function sealSecret(key: CryptoKey, plaintext: string, context: string): Promise<string> {
  const { current } = ringOf(key)
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    current.key,
    encoder.encode(plaintext),
  )
  return `${SEALED_VERSION}.${current.id}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`
}

/** What {@link openSealed} found: the secret, the id of the key that opened it, and the format it was in. */
export interface OpenedSecret {
  plaintext: string
  keyId: string
  format: 'v1' | 'v2'
}

async function decrypt(key: CryptoKey, ivText: string, dataText: string, context: string): Promise<string | null> {
  try {
    const plaintext = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: base64ToBytes(ivText), additionalData: encoder.encode(context) },
      key,
      base64ToBytes(dataText),
    )
    return new TextDecoder().decode(plaintext)
  } catch {
    return null
  }
}

/** The key id a sealed value names without opening it (v2), or null (v1, or not a sealed value). */
export function sealedKeyId(sealed: string): string | null {
  const [version, keyId] = sealed.split('.')
  return version === SEALED_VERSION && keyId !== undefined && KEY_ID.test(keyId) ? keyId : null
}

/**
 * Opens a sealed value with the ring of `key`, and tells which key opened it (for `credentials status` and
 * `reseal`). @throws SealedSecretError saying why it does not open.
 */
export async function openSealed(key: CryptoKey, sealed: string, context: string): Promise<OpenedSecret> {
  const ring = ringOf(key)
  const keys = [ring.current, ...ring.previous]
  const configured = () => `CREDENTIALS_KEY / CREDENTIALS_KEYS_PREVIOUS (key ids ${keys.map((one) => one.id).join(', ')})`
  const parts = sealed.split('.')
  if (parts[0] === SEALED_VERSION && parts.length === 4 && KEY_ID.test(parts[1]!) && parts[2] && parts[3]) {
    const keyId = parts[1]!
    const sealer = keys.find((one) => one.id === keyId)
    if (!sealer) throw new SealedSecretError('unknown_key_id', keyId, `sealed under key id ${keyId}, which is not in ${configured()}`)
    const plaintext = await decrypt(sealer.key, parts[2], parts[3], context)
    if (plaintext === null) {
      throw new SealedSecretError('does_not_open', keyId, `sealed under key id ${keyId}, which is configured, but it does not open: altered, or copied from another row`)
    }
    return { plaintext, keyId, format: 'v2' }
  }
  if (parts[0] === LEGACY_VERSION && parts.length === 3 && parts[1] && parts[2]) {
    for (const candidate of keys) {
      const plaintext = await decrypt(candidate.key, parts[1], parts[2], context)
      if (plaintext !== null) return { plaintext, keyId: candidate.id, format: 'v1' }
    }
    throw new SealedSecretError(
      'no_key_opens',
      null,
      `sealed in the v1 format (no key id), and no key of ${configured()} opens it: sealed under a key no longer configured, or altered`,
    )
  }
  throw new SealedSecretError('malformed', null, 'not a sealed value (expected v2.<key id>.<iv>.<ciphertext>)')
}

/** Reverses {@link sealSecret} under any key of the ring. @throws SealedSecretError when it does not open. */
export async function openSecret(key: CryptoKey, sealed: string, context: string): Promise<string> {
  return (await openSealed(key, sealed, context)).plaintext
}

/**
 * The HMAC-SHA256 key of one API key's `hash` masks (src/policy/masks.ts): HKDF-SHA256 from CREDENTIALS_KEY, with the
 * key id as info, so hashes of one value differ between keys and cannot be computed without the gateway's secret.
 * Replacing CREDENTIALS_KEY changes every hash (docs/POLICY.md says so).
 */
export async function maskHashKey(credentialsKeyBase64: string, keyId: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', decodeKey(credentialsKeyBase64, 'CREDENTIALS_KEY'), 'HKDF', false, ['deriveKey'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new TextEncoder().encode('odoo-mcp-edge mask hash v1'), info: new TextEncoder().encode(keyId) },
    base,
    { name: 'HMAC', hash: 'SHA-256', length: 256 },
    false,
    ['sign'],
  )
}
