/**
 * Property tests of the per-key policy cache (src/policy/key-policy.ts): whatever text D1 holds, a key gets "no
 * policy" only for an empty one, the parsed policy only for a valid one, and "invalid" (every call refused) otherwise;
 * the per-isolate cache never answers for another text. The schema itself is covered in
 * test/node/properties/policy.property.test.ts; this module imports Worker types, hence workerd.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { keyPolicy } from '../../../src/policy/key-policy'
import { parsePolicyText } from '../../../src/policy/schema'

const validPolicy = fc
  .record({
    models: fc.dictionary(
      fc.constantFrom('res.partner', 'sale.order', '*'),
      fc.record({ operations: fc.subarray(['read', 'create', 'write', 'unlink'], { minLength: 1 }), fields: fc.oneof(fc.constant('*'), fc.subarray(['name', 'email'])) }),
    ),
    ip: fc.record({ allow: fc.subarray(['203.0.113.0/24', '2001:db8::/32']), deny: fc.subarray(['203.0.113.7']) }),
  })
  .map((policy) => JSON.stringify({ version: 1, ...policy }))

const storedText = fc.oneof(
  validPolicy,
  validPolicy.map((text) => text.replace('"version":1', '"version":2')),
  validPolicy.map((text) => text.slice(0, -1)),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', '   ', '\n', 'null', '{}', '[]', '{"version":1,"models":{}}', '{"version":1,"models":{"constructor":{"operations":["read"],"fields":"*"}}}'),
)

function expectedKind(text: string | null): 'none' | 'valid' | 'invalid' {
  if (text === null || text.trim() === '') return 'none'
  return parsePolicyText(text).ok ? 'valid' : 'invalid'
}

describe('keyPolicy (properties)', () => {
  it('never throws, and fails closed: only an empty policy means "none", anything unparsable is "invalid"', () => {
    fc.assert(
      fc.property(fc.option(storedText, { freq: 10 }), (text) => {
        const result = keyPolicy({ policy: text })
        expect(result.kind).toBe(expectedKind(text))
        if (result.kind === 'invalid') expect(result.errors.length).toBeGreaterThan(0)
      }),
      { numRuns: 500 },
    )
  })

  it('answers each text for itself, through cache hits and evictions', () => {
    // More distinct texts than the cache holds (500), near-twins among them (a valid policy, cut by one character,
    // with another version, with a trailing space), asked in a random order with repeats.
    const twins = validPolicy.map((text) => [text, text.slice(0, -1), text.replace('"version":1', '"version":2'), text + ' '])
    const many = fc.nat(2_000).map((n) => [`{"version":1,"models":{"m${n}.x":{"operations":["read"],"fields":"*"}}}`])
    const texts = fc.array(fc.oneof(twins, many, storedText.map((text) => [text])), { minLength: 20, maxLength: 600 }).chain((groups) => fc.shuffledSubarray(groups.flat(), { minLength: groups.flat().length }))
    fc.assert(
      fc.property(texts, (list) => {
        for (const text of [...list, ...list.slice(0, 50)]) {
          const result = keyPolicy({ policy: text })
          expect(result.kind).toBe(expectedKind(text))
          if (result.kind === 'valid') expect(Object.keys(result.policy.models)).toEqual(Object.keys((JSON.parse(text) as { models: object }).models))
        }
      }),
      { numRuns: 20 },
    )
  })
})
