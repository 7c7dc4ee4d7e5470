import { describe, expect, it } from 'vitest'
import { generateCredentialsKey, importCredentialsKey, openSecret, sealSecret, sha256Hex } from '../../../src/lib/crypto'

describe('sha256Hex', () => {
  it('matches the SHA-256 test vector', async () => {
    expect(await sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad')
  })
})

describe('sealed Odoo secrets (AES-256-GCM)', () => {
  it('round-trips and never contains the plaintext', async () => {
    const key = await importCredentialsKey(generateCredentialsKey())
    const sealed = await sealSecret(key, 'odoo-secret-value', 'key_1')
    expect(sealed).toMatch(/^v2\.[0-9a-f]{8}\./)
    expect(sealed).not.toContain('odoo-secret-value')
    expect(await openSecret(key, sealed, 'key_1')).toBe('odoo-secret-value')
  })

  it('uses a fresh IV each time', async () => {
    const key = await importCredentialsKey(generateCredentialsKey())
    expect(await sealSecret(key, 's', 'k')).not.toBe(await sealSecret(key, 's', 'k'))
  })

  it('refuses a secret moved to another key id (associated data)', async () => {
    const key = await importCredentialsKey(generateCredentialsKey())
    const sealed = await sealSecret(key, 'secret', 'key_a')
    await expect(openSecret(key, sealed, 'key_b')).rejects.toThrow()
  })

  it('refuses a tampered ciphertext and a different CREDENTIALS_KEY', async () => {
    const key = await importCredentialsKey(generateCredentialsKey())
    const other = await importCredentialsKey(generateCredentialsKey())
    const sealed = await sealSecret(key, 'secret', 'k')
    const parts = sealed.split('.')
    const flipped = parts[2]!.startsWith('A') ? 'B' + parts[2]!.slice(1) : 'A' + parts[2]!.slice(1)
    await expect(openSecret(key, [parts[0], parts[1], flipped].join('.'), 'k')).rejects.toThrow()
    await expect(openSecret(other, sealed, 'k')).rejects.toThrow()
  })

  it('explains a missing or wrong-sized CREDENTIALS_KEY', async () => {
    await expect(importCredentialsKey(undefined)).rejects.toThrow(/not set/)
    await expect(importCredentialsKey('c2hvcnQ=')).rejects.toThrow(/32 bytes, not 5/)
    await expect(importCredentialsKey('***')).rejects.toThrow(/base64/)
  })
})
