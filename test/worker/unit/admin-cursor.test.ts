/**
 * Admin API paging cursors (src/admin/v1/http.ts), property style:
 *   - every sort key the API can hand out (text in any script, integers) comes back unchanged from its cursor;
 *   - a cursor is URL-safe as it stands (no +, /, = to escape in a query string);
 *   - any other text either decodes to the expected shape or is refused (ok: false): never a throw, so a client's
 *     made-up cursor is a 400 invalid_cursor and never a 500.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { decodeCursor, encodeCursor } from '../../../src/admin/v1/http'

const sortKey = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }), fc.integer()), { maxLength: 4 })
const anyKey = z.array(z.union([z.string(), z.number()]))

describe('admin API cursors', () => {
  it('give back every sort key unchanged, in URL-safe text', () => {
    fc.assert(
      fc.property(sortKey, (values) => {
        const cursor = encodeCursor(values)
        expect(cursor).toMatch(/^[A-Za-z0-9_-]*$/)
        expect(decodeCursor(cursor, anyKey)).toEqual({ ok: true, value: values })
      }),
      { numRuns: 300 },
    )
  })

  it('carries text beyond Latin-1 (names in any script, emoji)', () => {
    for (const name of ['Société Générale', 'Ελληνικά', '株式会社', 'zażółć 🚀']) {
      expect(decodeCursor(encodeCursor([7, name]), z.tuple([z.number(), z.string()]))).toEqual({ ok: true, value: [7, name] })
    }
  })

  it('refuses, without throwing, any text it did not give out in the expected shape', () => {
    const shape = z.tuple([z.number().int(), z.string().max(40)])
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), sortKey.map(encodeCursor)), (text) => {
        const decoded = decodeCursor(text, shape)
        if (decoded.ok) expect(shape.safeParse(decoded.value).success).toBe(true)
      }),
      { numRuns: 500 },
    )
    // Not UTF-8 underneath (a lone continuation byte), not base64, not JSON, the wrong shape: all refused.
    for (const text of ['gA', '!!!', encodeCursor(['a', 1]).slice(0, -2) + '@@', btoa('{"a":1}'), encodeCursor(['x', 1])]) {
      expect(decodeCursor(text, shape)).toEqual({ ok: false })
    }
  })
})
