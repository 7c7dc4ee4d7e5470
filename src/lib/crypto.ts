/**
 * WebCrypto helpers shared by the Worker and the CLI: hashing of API keys and AES-256-GCM encryption of the Odoo
 * secrets stored in D1.
 */
import { base64ToBytes, bytesToBase64, bytesToHex } from './encoding'

const encoder = new TextEncoder()

export async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(text))))
}

/** Format tag of encrypted secrets, so the scheme can change later without guessing. */
const SEALED_VERSION = 'v1'
/** 96-bit IV: the size GCM is specified for; random per encryption. */
const IV_BYTES = 12

/**
 * Imports `CREDENTIALS_KEY` (base64 of exactly 32 bytes) as a non-extractable AES-256-GCM key.
 * @throws Error with a message fit for an operator when the secret is missing or has the wrong size.
 */
export async function importCredentialsKey(secretBase64: string | undefined): Promise<CryptoKey> {
  if (!secretBase64) throw new Error('CREDENTIALS_KEY is not set (base64 of 32 random bytes)')
  let raw: Uint8Array<ArrayBuffer>
  try {
    raw = base64ToBytes(secretBase64)
  } catch {
    throw new Error('CREDENTIALS_KEY is not valid base64')
  }
  if (raw.length !== 32) throw new Error(`CREDENTIALS_KEY must decode to 32 bytes, not ${raw.length}`)
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt'])
}

/** Generates a fresh `CREDENTIALS_KEY` value. */
export function generateCredentialsKey(): string {
  return bytesToBase64(crypto.getRandomValues(new Uint8Array(32)))
}

/**
 * Encrypts an Odoo secret. `context` (the API key's id) is bound as additional authenticated data, so a sealed
 * secret copied onto another key's row does not decrypt.
 */
export async function sealSecret(key: CryptoKey, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES))
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(plaintext),
  )
  return `${SEALED_VERSION}.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`
}

/** Reverses {@link sealSecret}. @throws Error when the value was tampered with, or sealed under another key/context. */
export async function openSecret(key: CryptoKey, sealed: string, context: string): Promise<string> {
  const [version, ivText, dataText] = sealed.split('.')
  if (version !== SEALED_VERSION || !ivText || !dataText) throw new Error('unrecognised sealed secret format')
  const plaintext = await crypto.subtle.decrypt(
    { name: 'AES-GCM', iv: base64ToBytes(ivText), additionalData: encoder.encode(context) },
    key,
    base64ToBytes(dataText),
  )
  return new TextDecoder().decode(plaintext)
}
