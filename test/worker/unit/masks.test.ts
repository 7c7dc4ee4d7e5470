/**
 * Field masks (src/policy/masks.ts). The property: a masked value is a function of what the mask keeps (the kept
 * characters, the length, for `hash` the whole value under the key's secret) and of nothing else; checked with
 * generated values against a reference that rebuilds the mask from those parts only.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createMaskHasher, maskValue, REDACTED, type MaskKind } from '../../../src/policy/masks'
import { maskHashKey } from '../../../src/lib/crypto'

const KEY_A = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))
const noHash = async () => {
  throw new Error('no hash expected')
}

describe('field masks', () => {
  it.each([
    ['jane.doe@acme.com', 'partial', 'j*******@acme.com'],
    ['+32 475 12 34 56', 'partial', '+3************56'],
    ['BE0477472701', 'partial', 'BE********01'],
    [1234.5, 'partial', '1****5'],
    ['abc', 'partial', '***'],
    ['jane.doe@acme.com', 'last4', '*************.com'],
    ['+32 475 12 34 56', 'last4', '************4 56'],
    ['BE0477472701', 'last4', '********2701'],
    [1234.5, 'last4', '******'],
    ['anything', 'redact', REDACTED],
    [false, 'redact', REDACTED],
    [false, 'partial', false],
    [null, 'last4', null],
    ['', 'partial', ''],
  ] as [unknown, MaskKind, unknown][])('masks %j with %s as %j', async (value, mask, expected) => {
    expect(await maskValue(value, mask, noHash)).toEqual(expected)
  })

  it('keeps only the ends and the length: values that agree on those mask alike (partial, last4)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 1, maxLength: 40 }), async (a, b) => {
        for (const mask of ['partial', 'last4'] as const) {
          const [ma, mb] = [await maskValue(a, mask, noHash), await maskValue(b, mask, noHash)]
          // Reference: what the mask may depend on.
          const parts = (text: string) => {
            const chars = [...text]
            const at = text.lastIndexOf('@')
            if (mask === 'partial' && at > 0 && at < text.length - 1) {
              const local = [...text.slice(0, at)]
              return [local.length === 1 ? '' : local[0], local.length, text.slice(at)]
            }
            if (mask === 'partial') return chars.length < 4 ? [chars.length] : [chars.length, chars.slice(0, chars.length < 8 ? 1 : 2).join(''), chars.slice(chars.length < 8 ? -1 : -2).join('')]
            return chars.length < 8 ? [chars.length] : [chars.length, chars.slice(-4).join('')]
          }
          if (JSON.stringify(parts(a)) === JSON.stringify(parts(b))) expect(ma).toBe(mb)
          // Never longer than the value, never the value itself when something is hidden.
          expect([...(ma as string)].length).toBe([...a].length)
        }
      }),
      { numRuns: 300 },
    )
  })

  it('hashes equal values equally for one key, differently for another key, and never shows the value', async () => {
    const a = createMaskHasher(await maskHashKey(KEY_A, 'key-a'))
    const b = createMaskHasher(await maskHashKey(KEY_A, 'key-b'))
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 60 }), fc.string({ minLength: 1, maxLength: 60 }), async (x, y) => {
        const [ax, ay, bx] = [await maskValue(x, 'hash', a), await maskValue(y, 'hash', a), await maskValue(x, 'hash', b)]
        expect(ax).toMatch(/^h:[0-9a-f]{16}$/)
        expect(ax === ay).toBe(x === y)
        expect(bx).not.toBe(ax)
      }),
      { numRuns: 200 },
    )
  })
})
