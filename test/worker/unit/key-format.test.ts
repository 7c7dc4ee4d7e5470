import { describe, expect, it } from 'vitest'
import { API_KEY_LENGTH, API_KEY_PREFIX, displayPrefix, generateApiKey, generateKeyId, parseApiKey } from '../../../src/keys/key-format'

describe('API key format', () => {
  it('generates omk_ keys of fixed length that parse back', () => {
    const { key, prefix } = generateApiKey()
    expect(key.startsWith(API_KEY_PREFIX)).toBe(true)
    expect(key).toHaveLength(API_KEY_LENGTH)
    expect(key).toMatch(/^omk_[0-9A-Za-z]{49}$/)
    expect(prefix).toBe(key.slice(0, 12))
    expect(displayPrefix(key)).toBe(prefix)
    expect(parseApiKey(key)).toEqual({ ok: true, key })
  })

  it('carries at least 32 bytes of randomness (no two keys share their secret part)', () => {
    const secrets = new Set(Array.from({ length: 200 }, () => generateApiKey().key.slice(4, 47)))
    expect(secrets.size).toBe(200)
  })

  it('detects every single-character typo through the checksum', () => {
    const { key } = generateApiKey()
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
    for (let i = API_KEY_PREFIX.length; i < key.length; i++) {
      const replacement = alphabet[(alphabet.indexOf(key[i]!) + 7) % 62]!
      const typo = key.slice(0, i) + replacement + key.slice(i + 1)
      expect(parseApiKey(typo), `position ${i}`).toEqual({ ok: false, reason: 'checksum' })
    }
  })

  it('refuses wrong prefix, length and alphabet as a format error', () => {
    const { key } = generateApiKey()
    expect(parseApiKey('sk_' + key.slice(3))).toEqual({ ok: false, reason: 'format' })
    expect(parseApiKey(key.slice(0, -1))).toEqual({ ok: false, reason: 'format' })
    expect(parseApiKey(key + 'A')).toEqual({ ok: false, reason: 'format' })
    expect(parseApiKey(key.slice(0, 10) + '-' + key.slice(11))).toEqual({ ok: false, reason: 'format' })
    expect(parseApiKey('')).toEqual({ ok: false, reason: 'format' })
  })

  it('makes key ids of the form key_ + 16 hex', () => {
    expect(generateKeyId()).toMatch(/^key_[0-9a-f]{16}$/)
  })
})
