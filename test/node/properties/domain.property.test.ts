/**
 * Property tests of the domain validator (src/domain/domain.ts, src/domain/query-parts.ts), against a reference
 * written here from Odoo's grammar: prefix notation read left to right (the implementation reads right to left with a
 * stack), field names checked character by character (the implementation uses a regular expression). Then the
 * validator and the policy guard together: a domain gets through only if every field it mentions is visible.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { domainLeaves, parseDomain, type DomainNode } from '../../../src/domain/domain'
import { parseAggregates, parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { parsePolicy } from '../../../src/policy/schema'

/** Runs `fn`; a ToolError with `code` is a refusal, anything else thrown fails the property. */
function outcome<T>(fn: () => T, code: string): { ok: true; value: T } | { ok: false; error: ToolError } {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    if (error instanceof ToolError && error.code === code) return { ok: false, error }
    throw error
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reference model of a valid domain
// ---------------------------------------------------------------------------------------------------------------

const REFERENCE_OPERATORS = ['=', '!=', '<>', '<', '>', '<=', '>=', '=?', 'in', 'not in', 'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike', 'child_of', 'parent_of']

function isIdentifier(name: string): boolean {
  if (name.length === 0 || name.length > 63) return false
  return [...name].every((char, index) => {
    const letter = (char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z') || char === '_'
    return letter || (index > 0 && char >= '0' && char <= '9')
  })
}

function isValidPath(field: unknown): field is string {
  if (typeof field !== 'string') return false
  const parts = field.split('.')
  return parts.length <= 4 && parts.every(isIdentifier)
}

function isScalar(value: unknown): boolean {
  if (value === null || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  return typeof value === 'string' && value.length <= 1000
}

function isValidValue(operator: string, value: unknown): boolean {
  if (operator === 'in' || operator === 'not in') return Array.isArray(value) && value.length <= 1000 && value.every(isScalar)
  if (operator === 'child_of' || operator === 'parent_of') return isScalar(value) || (Array.isArray(value) && value.every(isScalar))
  return isScalar(value)
}

function isValidLeaf(term: unknown): boolean {
  if (!Array.isArray(term) || term.length !== 3) return false
  const [field, operator, value] = term as unknown[]
  if (!isValidPath(field) || typeof operator !== 'string') return false
  const lower = operator.toLowerCase()
  return REFERENCE_OPERATORS.includes(lower) && isValidValue(lower, value)
}

/**
 * Whether Odoo's grammar accepts `input`, read left to right: `open` counts the conditions still owed to the operators
 * seen so far; a condition pays one, '&' and '|' owe one more, '!' owes as much as it pays. A new top-level condition
 * may only start once nothing is owed (implicit AND), and nothing may be owed at the end.
 */
function referenceAccepts(input: unknown): boolean {
  if (input === null || input === undefined) return true
  if (!Array.isArray(input) || input.length > 200) return false
  let open = 0
  for (const term of input) {
    if (open === 0) open = 1
    if (term === '&' || term === '|') open += 1
    else if (term === '!') continue
    else if (isValidLeaf(term)) open -= 1
    else return false
  }
  return open === 0
}

/** The field of every condition in a domain, in order, read straight off the input. */
function mentionedFields(input: unknown[]): string[] {
  return input.filter((term) => Array.isArray(term)).map((term) => (term as unknown[])[0] as string)
}

/** Reads a domain tree back into prefix notation, as a list of '&', '|', '!' and leaf positions. */
function prefixOf(node: DomainNode | null): (string | number)[] {
  if (!node) return []
  if (node.kind === 'leaf') return [node.position]
  if (node.kind === 'not') return ['!', ...prefixOf(node.operand)]
  const symbol = node.kind === 'and' ? '&' : '|'
  return [...Array(node.operands.length - 1).fill(symbol), ...node.operands.flatMap(prefixOf)]
}

/** The input in prefix notation with every condition replaced by its position, and implicit ANDs written out. */
function referencePrefix(input: unknown[]): (string | number)[] {
  const trees: (string | number)[][] = []
  let open = 0
  input.forEach((term, index) => {
    if (open === 0) {
      trees.push([])
      open = 1
    }
    if (term === '&' || term === '|') open += 1
    else if (term !== '!') open -= 1
    trees[trees.length - 1]!.push(typeof term === 'string' ? term : index + 1)
  })
  return [...Array(Math.max(trees.length - 1, 0)).fill('&'), ...trees.flat()]
}

// ---------------------------------------------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------------------------------------------

const FIELD_PATHS = ['name', 'email', 'phone', 'city', 'country_id', 'country_id.code', 'country_id.name', 'parent_id', 'parent_id.email', 'parent_id.country_id.code', 'user_id.login', 'user_id.password', 'id']
const oddField = fc.oneof(
  fc.constantFrom('', ' name', 'name ', 'na me', 'name\n', 'partner_id..email', '.name', 'name.', 'a.b.c.d.e', '1name', 'x'.repeat(64), 'name)--', 'émail', 'nаme', 'ｎａｍｅ', 'name\u200b', '__proto__', 'constructor'),
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.integer(),
  fc.constant(null),
)
/** Dotted paths of 1 to 6 well-formed parts: up to 4 are allowed. */
const longPath = fc.array(fc.constantFrom('partner_id', 'country_id', 'code', 'x_1', '_a'), { minLength: 1, maxLength: 6 }).map((parts) => parts.join('.'))
const field = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...FIELD_PATHS) }, { weight: 1, arbitrary: longPath }, { weight: 1, arbitrary: oddField })

const operator = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...REFERENCE_OPERATORS) },
  { weight: 1, arbitrary: fc.constantFrom('IN', 'Not Like', 'ILIKE', 'not  in', 'likee', '==', '', ' =', 'LI\u212AE', 'İN', 'in ', 'any', 'not any') },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.constant(null)) },
)

const scalar = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('x'.repeat(1000), 'x'.repeat(1001)),
)
const value = fc.oneof(
  { weight: 4, arbitrary: scalar },
  { weight: 2, arbitrary: fc.array(scalar, { maxLength: 5 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
)

const leaf = fc.tuple(field, operator, value)
const term = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 4, arbitrary: fc.constantFrom('&', '|', '!') },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constantFrom('^', 'AND', '&&', ' |', 'not', ''),
      fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 5 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
  },
)
const domainInput = fc.oneof(
  { weight: 6, arbitrary: fc.array(term, { maxLength: 14 }) },
  { weight: 1, arbitrary: fc.array(term, { minLength: 199, maxLength: 202 }) },
  { weight: 1, arbitrary: fc.jsonValue() },
)

/** `depth` levels of arrays around `inner`, built without recursion. */
function nested(depth: number, inner: unknown): unknown {
  let value = inner
  for (let level = 0; level < depth; level++) value = [value]
  return value
}

/**
 * Deeply nested input in every place a domain has room for it. Generated as (depth, place) and built inside the
 * property, so that fast-check can print a failing case (printing the nested value itself would overflow too).
 */
const DEEP_PLACES = ['the domain', 'a term', 'a value', 'an in-list item', 'a field', 'an operator'] as const
const deepCase = fc.tuple(fc.integer({ min: 2_000, max: 60_000 }), fc.constantFrom(...DEEP_PLACES))

function deeplyNestedDomain(depth: number, place: (typeof DEEP_PLACES)[number]): unknown {
  const deep = nested(depth, 'x')
  switch (place) {
    case 'the domain': return deep
    case 'a term': return [deep]
    case 'a value': return [['name', '=', deep]]
    case 'an in-list item': return [['id', 'in', [1, deep]]]
    case 'a field': return [[deep, '=', 1]]
    case 'an operator': return ['|', ['name', deep, 1], ['id', '=', 1]]
  }
}

describe('parseDomain (properties)', () => {
  it('throws nothing but a ToolError (invalid_domain), whatever JSON it is given', () => {
    fc.assert(
      fc.property(domainInput, (input) => {
        outcome(() => parseDomain(input), 'invalid_domain')
      }),
      { numRuns: 1000 },
    )
  })

  it('refuses deeply nested input with a ToolError, not a stack overflow', () => {
    fc.assert(
      fc.property(deepCase, ([depth, place]) => {
        const result = outcome(() => parseDomain(deeplyNestedDomain(depth, place)), 'invalid_domain')
        expect(result.ok).toBe(false)
      }),
      { numRuns: 60 },
    )
  })

  it('accepts exactly the domains the reference grammar accepts', () => {
    fc.assert(
      fc.property(domainInput, (input) => {
        expect(outcome(() => parseDomain(input), 'invalid_domain').ok).toBe(referenceAccepts(input))
      }),
      { numRuns: 1000 },
    )
  })

  it('keeps every condition of an accepted domain, with its field path as written and its place in the formula', () => {
    fc.assert(
      fc.property(domainInput, (input) => {
        const result = outcome(() => parseDomain(input), 'invalid_domain')
        if (!result.ok || !Array.isArray(input)) return
        const { tree, terms } = result.value
        expect(domainLeaves(tree).map((node) => node.path.join('.'))).toEqual(mentionedFields(input))
        expect(prefixOf(tree)).toEqual(referencePrefix(input))
        // What goes to Odoo is the input, term for term, except for the spelling of operators.
        expect(terms).toHaveLength(input.length)
        terms.forEach((sent, index) => {
          const written = input[index]
          if (typeof written === 'string') expect(sent).toBe(written)
          else expect((sent as unknown[])[0]).toBe((written as unknown[])[0])
        })
      }),
      { numRuns: 1000 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// The domain and the policy together
// ---------------------------------------------------------------------------------------------------------------

const m2o = (relation: string) => ({ type: 'many2one', relation })
const WORLD: Record<string, ModelFields> = {
  'res.partner': {
    id: { type: 'integer' },
    name: { type: 'char' },
    email: { type: 'char' },
    phone: { type: 'char' },
    city: { type: 'char' },
    country_id: m2o('res.country'),
    parent_id: m2o('res.partner'),
    user_id: m2o('res.users'),
  },
  'res.country': { id: { type: 'integer' }, name: { type: 'char' }, code: { type: 'char' } },
  'res.users': { id: { type: 'integer' }, name: { type: 'char' }, login: { type: 'char' }, password: { type: 'char' } },
}
const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = WORLD[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
}

/** Field lists per model (every model readable), and the reference: may a filter follow `path` from res.partner? */
interface Visibility {
  lists: Record<string, string[]>
}

function referenceMayFilterOn(visibility: Visibility, path: string): boolean {
  let model = 'res.partner'
  const parts = path.split('.')
  for (const [index, part] of parts.entries()) {
    if (part !== 'id' && !visibility.lists[model]!.includes(part)) return false
    if (index < parts.length - 1) {
      const relation = WORLD[model]![part]?.relation
      if (!relation) return false
      model = relation
    }
  }
  return true
}

const visibility: fc.Arbitrary<Visibility> = fc
  .record({
    'res.partner': fc.subarray(Object.keys(WORLD['res.partner']!).filter((name) => name !== 'id')),
    'res.country': fc.subarray(['name', 'code']),
    'res.users': fc.subarray(['name', 'login', 'password']),
  })
  .map((lists) => ({ lists }))

function policyOf(visibility: Visibility) {
  const parsed = parsePolicy({
    version: 1,
    models: Object.fromEntries(Object.entries(visibility.lists).map(([model, fields]) => [model, { operations: ['read'], fields }])),
  })
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  return parsed.policy
}

/** Conditions compare with numbers: text on a relational field is a name search, a separate rule. */
const numericLeaf = fc.tuple(fc.constantFrom(...FIELD_PATHS), fc.constantFrom('=', '!=', '>', 'in'), fc.integer({ min: 1, max: 9 })).map(
  ([path, op, n]) => [path, op, op === 'in' ? [n] : n] as [string, string, unknown],
)

/** A well-formed domain built from a random formula, with conditions drawn from `leafArb`. */
function wellFormedDomain(leafArb: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> {
  const { formula } = fc.letrec<{ formula: unknown[] }>((tie) => ({
    formula: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafArb.map((l) => [l]),
      tie('formula').map((f) => ['!', ...f]),
      fc.tuple(fc.constantFrom('&', '|'), tie('formula'), tie('formula')).map(([op, a, b]) => [op, ...a, ...b]),
    ),
  }))
  return fc.array(formula, { minLength: 1, maxLength: 3 }).map((formulas) => formulas.flat())
}

/** Ways to write a field name that are not that field: spacing, invisible characters, look-alike letters. */
function lookAlikes(name: string): string[] {
  const homoglyphs: Record<string, string> = { a: 'а', e: 'е', o: 'о', p: 'р', c: 'с', i: 'і', s: 'ѕ', l: 'ӏ', n: 'ո' }
  const variants = [` ${name}`, `${name} `, `${name}\t`, `\u00a0${name}`, `${name}\u200b`, `\u200d${name}`, name.normalize('NFD') + '\u0301']
  variants.push([...name].map((char) => String.fromCodePoint(char.codePointAt(0)! + 0xfee0)).join('')) // fullwidth
  for (const [index, char] of [...name].entries()) {
    if (homoglyphs[char]) variants.push(name.slice(0, index) + homoglyphs[char] + name.slice(index + 1))
  }
  return variants
}

describe('parseDomain + policy guard (properties)', () => {
  const authorize = async (visibility: Visibility, input: unknown) => {
    const guard = createPolicyGuard(policyOf(visibility), metadata)
    try {
      await guard.authorize({ tool: 'count_records', model: 'res.partner', operation: 'read', domain: parseDomain(input) })
      return true
    } catch (error) {
      if (error instanceof ToolError) return false
      throw error
    }
  }

  it('lets a domain through exactly when the reference sees every field it mentions', async () => {
    await fc.assert(
      fc.asyncProperty(visibility, wellFormedDomain(numericLeaf), async (visibility, input) => {
        const expected = mentionedFields(input).every((path) => referenceMayFilterOn(visibility, path))
        expect(await authorize(visibility, input)).toBe(expected)
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a hidden field wherever it hides: under ! or |, at the end or in the middle of a dotted path', async () => {
    const hiddenSomewhere = visibility.chain((visibility) => {
      const hiddenPaths = FIELD_PATHS.filter((path) => !referenceMayFilterOn(visibility, path))
      if (hiddenPaths.length === 0) return fc.constant(null)
      const hiddenLeaf = fc.tuple(fc.constantFrom(...hiddenPaths), fc.constantFrom('=', '!=', 'in')).map(([path, op]) => [path, op, op === 'in' ? [1] : 1])
      return fc
        .tuple(wellFormedDomain(numericLeaf), hiddenLeaf, fc.constantFrom('!', '|', '&', 'top'), fc.nat())
        .map(([domain, hidden, wrap, at]) => {
          // Put the hidden condition inside a random operator, before or after the rest of the domain.
          const wrapped = wrap === 'top' ? [hidden] : wrap === '!' ? ['!', hidden] : [wrap, hidden, ['id', '=', 1]]
          return { visibility, input: at % 2 === 0 ? [...wrapped, ...domain] : [...domain, ...wrapped] }
        })
    })
    await fc.assert(
      fc.asyncProperty(hiddenSomewhere, async (sample) => {
        if (sample) expect(await authorize(sample.visibility, sample.input)).toBe(false)
      }),
      { numRuns: 500 },
    )
  })

  it('refuses spellings of a field that only look like it (spaces, invisible characters, homoglyphs, fullwidth)', () => {
    const disguised = fc
      .constantFrom(...FIELD_PATHS)
      .chain((path) => {
        const parts = path.split('.')
        return fc.tuple(fc.constant(parts), fc.nat(parts.length - 1), fc.nat())
      })
      .map(([parts, index, pick]) => {
        const variants = lookAlikes(parts[index]!)
        const disguisedParts = parts.map((part, i) => (i === index ? variants[pick % variants.length]! : part))
        return disguisedParts.join('.')
      })
    fc.assert(
      fc.property(disguised, fc.constantFrom('!', '|', 'top'), (name, wrap) => {
        const leafTerm = [name, '=', 1]
        const input = wrap === 'top' ? [leafTerm] : wrap === '!' ? ['!', leafTerm] : ['|', ['id', '=', 1], leafTerm]
        expect(outcome(() => parseDomain(input), 'invalid_domain').ok).toBe(false)
      }),
      { numRuns: 500 },
    )
  })
})

// ---------------------------------------------------------------------------------------------------------------
// order, groupby, aggregates
// ---------------------------------------------------------------------------------------------------------------

const orderInput = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc
    .tuple(
      fc.array(
        fc.tuple(fc.constantFrom('name', 'date_order', 'id', 'x;', '', 'a.b'), fc.constantFrom('', ' asc', ' DESC', ' desc nulls last', ' asc NULLS FIRST', ' sideways', ' desc nulls')),
        { minLength: 1, maxLength: 12 },
      ),
      fc.constantFrom(',', ', ', ' ,  ', ',\t'),
    )
    .map(([parts, separator]) => parts.map(([f, d]) => f + d).join(separator)),
)

const CANONICAL_ORDER = /^[A-Za-z_][A-Za-z0-9_]* (asc|desc)( nulls (first|last))?(, [A-Za-z_][A-Za-z0-9_]* (asc|desc)( nulls (first|last))?)*$/

describe('parseOrder / parseGroupBy / parseAggregates (properties)', () => {
  it('parseOrder throws only ToolError and sends Odoo nothing but canonical "field direction" terms', () => {
    fc.assert(
      fc.property(orderInput, (input) => {
        const result = outcome(() => parseOrder(input), 'invalid_order')
        if (!result.ok || result.value.odoo === undefined) return
        expect(result.value.odoo).toMatch(CANONICAL_ORDER)
        // Every field sent is one the caller wrote, in order; nothing is added or dropped.
        const written = input.split(',').map((part) => part.trim().split(/\s+/)[0])
        expect(result.value.terms.map((t) => t.field)).toEqual(written)
      }),
      { numRuns: 500 },
    )
  })

  it('parseGroupBy and parseAggregates throw only ToolError and return only identifier fields', () => {
    const spec = fc.oneof(
      fc.string({ maxLength: 20 }),
      fc.tuple(fc.constantFrom('date_order', 'amount_total', 'x y', '', 'a.b'), fc.constantFrom('', ':month', ':sum', ':count_distinct', ':median', ':sum:x', ':')).map(([f, s]) => f + s),
    )
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 7 }), (specs) => {
        const groups = outcome(() => parseGroupBy(specs), 'invalid_groupby')
        if (groups.ok) for (const group of groups.value) expect(isIdentifier(group.field)).toBe(true)
        const aggregates = outcome(() => parseAggregates(specs), 'invalid_aggregate')
        if (aggregates.ok) for (const aggregate of aggregates.value) expect(isIdentifier(aggregate.field)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})
