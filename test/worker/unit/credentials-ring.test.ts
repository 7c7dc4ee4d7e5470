/**
 * The CREDENTIALS_KEY ring (src/lib/crypto.ts), property style: generated keys, rings, secrets and row ids.
 *   - a value sealed under key K opens, to the same text, under every ring holding K (current or previous);
 *   - under a ring without K it fails with an error naming K's id;
 *   - v1 values (sealed before key rings, no key id) open under every ring holding their key;
 *   - an altered value, or one moved to another row, does not open.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  credentialsKeyId,
  importCredentialsKey,
  openSealed,
  openSecret,
  ringKeyIds,
  SealedSecretError,
  sealedKeyId,
  sealSecret,
} from '../../../src/lib/crypto'
import { base64ToBytes, bytesToBase64, bytesToHex } from '../../../src/lib/encoding'
import { sealV1 } from '../legacy-seal'

const RUNS = 40

const keyText = fc.uint8Array({ minLength: 32, maxLength: 32 }).map(bytesToBase64)
/** 1-4 different keys. */
const keyTexts = fc.uniqueArray(keyText, { minLength: 1, maxLength: 4 })
const secret = fc.string({ unit: 'binary', maxLength: 200 })
const rowId = fc.oneof(fc.constantFrom('key_0123456789abcdef', 'con_0123456789abcdef', 'whk_0123456789abcdef'), fc.string({ maxLength: 40 }))

/** A ring from key texts: the first is CREDENTIALS_KEY, the rest CREDENTIALS_KEYS_PREVIOUS. */
function ring(keys: string[]): Promise<CryptoKey> {
  return importCredentialsKey(keys[0], keys.slice(1).join(','))
}

/** Some order of `keys` (a permutation picked by the generated `order`). */
function reorder<T>(keys: T[], order: number[]): T[] {
  const left = [...keys]
  const picked: T[] = order.slice(0, keys.length).map((pick) => left.splice(pick % left.length, 1)[0]!)
  return [...picked, ...left]
}

async function openError(promise: Promise<unknown>): Promise<SealedSecretError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(SealedSecretError)
    return error as SealedSecretError
  }
  throw new Error('the value opened')
}

/** Flips one bit of the base64 field `field` (2: iv, 3: ciphertext in v2). */
function flipBit(sealed: string, field: number, bit: number): string {
  const parts = sealed.split('.')
  const bytes = base64ToBytes(parts[field]!)
  const at = bit % (bytes.length * 8)
  bytes[at >> 3]! ^= 1 << (at & 7)
  parts[field] = bytesToBase64(bytes)
  return parts.join('.')
}

describe('key ids', () => {
  it('are the first 8 hex characters of the SHA-256 of the raw key', async () => {
    // SHA-256 of 32 zero bytes: 66687aadf862bd77...
    expect(await credentialsKeyId(bytesToBase64(new Uint8Array(32)))).toBe('66687aad')
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (raw) => {
        const digest = bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', raw)))
        expect(await credentialsKeyId(bytesToBase64(raw))).toBe(digest.slice(0, 8))
      }),
      { numRuns: RUNS },
    )
  })

  it('are what a ring reports and what a sealed value names', async () => {
    await fc.assert(
      fc.asyncProperty(keyTexts, secret, rowId, async (keys, text, id) => {
        const ids = await Promise.all(keys.map(credentialsKeyId))
        const sealing = await ring(keys)
        expect(ringKeyIds(sealing)).toEqual({ current: ids[0], previous: ids.slice(1) })
        const sealed = await sealSecret(sealing, text, id)
        expect(sealed).toMatch(/^v2\.[0-9a-f]{8}\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/)
        expect(sealedKeyId(sealed)).toBe(ids[0])
      }),
      { numRuns: RUNS },
    )
  })
})

describe('a sealed value under a ring', () => {
  it('opens to the same text under every ring that holds its key, wherever the key sits in it', async () => {
    await fc.assert(
      fc.asyncProperty(keyTexts, keyTexts, fc.array(fc.nat(), { maxLength: 8 }), secret, rowId, async (sealingKeys, others, order, text, id) => {
        const sealed = await sealSecret(await ring(sealingKeys), text, id)
        const opening = reorder([sealingKeys[0]!, ...others.filter((key) => key !== sealingKeys[0])], order)
        const opened = await openSealed(await ring(opening), sealed, id)
        expect(opened).toEqual({ plaintext: text, keyId: await credentialsKeyId(sealingKeys[0]!), format: 'v2' })
        expect(await openSecret(await ring(opening), sealed, id)).toBe(text)
      }),
      { numRuns: RUNS },
    )
  })

  it('fails under a ring without its key, with an error naming the key id it was sealed under', async () => {
    await fc.assert(
      fc.asyncProperty(keyText, keyTexts, secret, rowId, async (sealingKey, others, text, id) => {
        fc.pre(!others.includes(sealingKey))
        const sealed = await sealSecret(await importCredentialsKey(sealingKey), text, id)
        const error = await openError(openSealed(await ring(others), sealed, id))
        const sealingId = await credentialsKeyId(sealingKey)
        expect(error.problem).toBe('unknown_key_id')
        expect(error.keyId).toBe(sealingId)
        expect(error.message).toContain(`key id ${sealingId}`)
        expect(error.message).toContain('CREDENTIALS_KEYS_PREVIOUS')
        // Nothing of the secret in the error.
        if (text.length >= 4) expect(error.message).not.toContain(text)
      }),
      { numRuns: RUNS },
    )
  })

  it('does not open once altered (a bit of the iv or the ciphertext), moved to another row, or relabelled with another key id', async () => {
    await fc.assert(
      fc.asyncProperty(
        keyTexts,
        secret,
        rowId,
        rowId,
        fc.constantFrom(2, 3),
        fc.nat(),
        async (keys, text, id, otherId, field, bit) => {
          const sealing = await ring(keys)
          const sealed = await sealSecret(sealing, text, id)
          const altered = await openError(openSealed(sealing, flipBit(sealed, field, bit), id))
          expect(altered.problem).toBe('does_not_open')
          expect(altered.keyId).toBe(ringKeyIds(sealing).current)
          if (otherId !== id) expect((await openError(openSealed(sealing, sealed, otherId))).problem).toBe('does_not_open')
          if (keys.length > 1) {
            const relabelled = sealed.replace(`.${ringKeyIds(sealing).current}.`, `.${ringKeyIds(sealing).previous[0]}.`)
            expect((await openError(openSealed(sealing, relabelled, id))).problem).toBe('does_not_open')
          }
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('refuses what is not a sealed value', async () => {
    const sealing = await importCredentialsKey(bytesToBase64(new Uint8Array(32)))
    for (const junk of ['', 'plain text', 'v2.nothex!.a.b', 'v3.abc.def', 'v1.onlyone', 'v2.66687aad.AAAA']) {
      expect((await openError(openSealed(sealing, junk, 'key_1'))).problem).toBe('malformed')
    }
  })
})

describe('v1 values (sealed before key rings)', () => {
  it('open under every ring that holds their key, which is then named', async () => {
    await fc.assert(
      fc.asyncProperty(keyTexts, fc.array(fc.nat(), { maxLength: 8 }), fc.nat(), secret, rowId, async (keys, order, pick, text, id) => {
        const sealer = keys[pick % keys.length]!
        const sealed = await sealV1(sealer, text, id)
        expect(sealedKeyId(sealed)).toBeNull()
        const opened = await openSealed(await ring(reorder(keys, order)), sealed, id)
        expect(opened).toEqual({ plaintext: text, keyId: await credentialsKeyId(sealer), format: 'v1' })
      }),
      { numRuns: RUNS },
    )
  })

  it('fail under a ring without their key, saying no configured key opens them', async () => {
    await fc.assert(
      fc.asyncProperty(keyText, keyTexts, secret, rowId, async (sealer, others, text, id) => {
        fc.pre(!others.includes(sealer))
        const error = await openError(openSealed(await ring(others), await sealV1(sealer, text, id), id))
        expect(error.problem).toBe('no_key_opens')
        expect(error.keyId).toBeNull()
        expect(error.message).toMatch(/v1 format.*no key of CREDENTIALS_KEY \/ CREDENTIALS_KEYS_PREVIOUS/)
      }),
      { numRuns: RUNS },
    )
  })
})

describe('importing the ring', () => {
  it('names the setting at fault, never the value', async () => {
    const good = bytesToBase64(new Uint8Array(32).fill(7))
    await expect(importCredentialsKey(undefined)).rejects.toThrow(/CREDENTIALS_KEY is not set/)
    await expect(importCredentialsKey(good, `${good},c2hvcnQ=`)).rejects.toThrow(/CREDENTIALS_KEYS_PREVIOUS entry 2 must decode to 32 bytes, not 5/)
    await expect(importCredentialsKey(good, '***')).rejects.toThrow(/CREDENTIALS_KEYS_PREVIOUS entry 1 is not valid base64/)
  })

  it('ignores empty entries and keys given twice (the current one among the previous)', async () => {
    const current = bytesToBase64(new Uint8Array(32).fill(1))
    const old = bytesToBase64(new Uint8Array(32).fill(2))
    const key = await importCredentialsKey(current, ` ${current}, ,${old},${old.replace(/\+/g, '-')},`)
    expect(ringKeyIds(key)).toEqual({ current: await credentialsKeyId(current), previous: [await credentialsKeyId(old)] })
  })

  it('seals only with a key it imported (one without a ring has no key id)', async () => {
    const bare = await crypto.subtle.importKey('raw', new Uint8Array(32), 'AES-GCM', false, ['encrypt', 'decrypt'])
    await expect(sealSecret(bare, 'x', 'key_1')).rejects.toThrow(/importCredentialsKey/)
  })
})
