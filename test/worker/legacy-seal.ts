/**
 * Seals a value the way the gateway did before key rings (format v1: `v1.<iv>.<ciphertext>`, no key id), so tests can
 * hold rows written by an older version. Mirrors the old lib/crypto.ts `sealSecret`; test-only.
 */
import { base64ToBytes, bytesToBase64 } from '../../src/lib/encoding'

export async function sealV1(credentialsKey: string, plaintext: string, context: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', base64ToBytes(credentialsKey), 'AES-GCM', false, ['encrypt'])
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const encoder = new TextEncoder()
  const ciphertext = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: encoder.encode(context) }, key, encoder.encode(plaintext))
  return `v1.${bytesToBase64(iv)}.${bytesToBase64(new Uint8Array(ciphertext))}`
}
