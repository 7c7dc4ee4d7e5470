/**
 * Property tests of the domain validator (src/domain/domain.ts, src/domain/query-parts.ts), against a reference
 * written here from Odoo's grammar: prefix notation read left to right (the implementation reads right to left with a
 * stack), field names checked character by character (the implementation uses a regular expression), `any` / `not
 * any` sub-domains by the same grammar. Then the validator and the policy guard together, against a reference read
 * from docs/SECURITY.md ("What a policy hides"): a domain gets through only if every condition in it, sub-domains
 * included, is one the policy allows (every hop visible, an operator the field's type takes, name searches only under
 * `"fields": "*"`, hierarchies only where every parent field is visible).
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

const REFERENCE_OPERATORS = ['=', '!=', '<>', '<', '>', '<=', '>=', '=?', 'in', 'not in', 'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike', 'child_of', 'parent_of', 'any', 'not any']
/** `any` / `not any` take a domain on the related model, nested at most this deep. */
const REFERENCE_SUBDOMAIN_DEPTH = 4
/** Terms (conditions and operators) in a domain, its sub-domains included. */
const REFERENCE_MAX_TERMS = 200

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

function isValidLeaf(term: unknown, depth: number, budget: { terms: number }): boolean {
  if (!Array.isArray(term) || term.length !== 3) return false
  const [field, operator, value] = term as unknown[]
  if (!isValidPath(field) || typeof operator !== 'string') return false
  const lower = operator.toLowerCase()
  if (lower === 'any' || lower === 'not any') return depth < REFERENCE_SUBDOMAIN_DEPTH && value !== null && referenceAccepts(value, depth + 1, budget)
  return REFERENCE_OPERATORS.includes(lower) && isValidValue(lower, value)
}

/**
 * Whether Odoo's grammar accepts `input`, read left to right: `open` counts the conditions still owed to the operators
 * seen so far; a condition pays one, '&' and '|' owe one more, '!' owes as much as it pays. A new top-level condition
 * may only start once nothing is owed (implicit AND), and nothing may be owed at the end. A sub-domain (`depth` > 0)
 * follows the same grammar, but must be a list; `budget` counts the terms of every level.
 */
function referenceAccepts(input: unknown, depth = 0, budget = { terms: 0 }): boolean {
  if (depth === 0 && (input === null || input === undefined)) return true
  if (!Array.isArray(input)) return false
  budget.terms += input.length
  if (budget.terms > REFERENCE_MAX_TERMS) return false
  let open = 0
  for (const term of input) {
    if (open === 0) open = 1
    if (term === '&' || term === '|') open += 1
    else if (term === '!') continue
    else if (isValidLeaf(term, depth, budget)) open -= 1
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
/** `any` / `not any` with a sub-domain of plain conditions and operators, sometimes well formed. */
const subdomainLeaf = fc.tuple(
  field,
  fc.constantFrom('any', 'not any', 'ANY', 'Not Any'),
  fc.oneof(fc.array(fc.oneof({ weight: 3, arbitrary: leaf }, { weight: 1, arbitrary: fc.constantFrom('&', '|', '!') }), { maxLength: 4 }), fc.constant(null), fc.jsonValue({ maxDepth: 1 })),
)
/** `any` nested `depth` levels deep: up to 4 are allowed. */
const nestedAny = fc.integer({ min: 1, max: 6 }).map((depth) => {
  let domain: unknown[] = [['name', '=', 'x']]
  for (let level = 0; level < depth; level++) domain = [['child_ids', 'any', domain]]
  return domain[0]
})
const term = fc.oneof(
  { weight: 6, arbitrary: leaf },
  { weight: 1, arbitrary: fc.oneof(subdomainLeaf, nestedAny) },
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
    display_name: { type: 'char' },
    name: { type: 'char' },
    email: { type: 'char' },
    phone: { type: 'char' },
    city: { type: 'char' },
    is_company: { type: 'boolean' },
    credit: { type: 'monetary' },
    image_1920: { type: 'binary' },
    properties: { type: 'properties' },
    country_id: m2o('res.country'),
    parent_id: m2o('res.partner'),
    user_id: m2o('res.users'),
    child_ids: { type: 'one2many', relation: 'res.partner', relation_field: 'parent_id' },
    category_id: { type: 'many2many', relation: 'res.partner.category' },
  },
  'res.country': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, code: { type: 'char' } },
  'res.users': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, login: { type: 'char' }, password: { type: 'char' }, partner_id: m2o('res.partner') },
  // A hierarchy whose parent field is not called parent_id.
  'res.partner.category': { id: { type: 'integer' }, display_name: { type: 'char' }, name: { type: 'char' }, parent_category_id: m2o('res.partner.category') },
}
const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = WORLD[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
}

/** Paths the policy properties filter on, per model (every field, dotted paths, a hidden-by-name one, one that does not exist). */
const PATHS: Record<string, string[]> = {
  'res.partner': [
    'id', 'display_name', 'name', 'email', 'phone', 'city', 'is_company', 'credit', 'image_1920', 'properties', 'no_such_field',
    'country_id', 'country_id.code', 'country_id.name', 'parent_id', 'parent_id.email', 'parent_id.country_id.code',
    'user_id', 'user_id.login', 'user_id.password', 'child_ids', 'child_ids.email', 'category_id', 'category_id.name',
  ],
  'res.country': ['id', 'display_name', 'name', 'code'],
  'res.users': ['id', 'display_name', 'name', 'login', 'password', 'partner_id', 'partner_id.name'],
  'res.partner.category': ['id', 'display_name', 'name', 'parent_category_id', 'parent_category_id.name'],
}

/** Per model: may the key read it at all, and its field list (`"*"` or names). res.partner, the model searched, is always readable. */
interface Visibility {
  readable: Record<string, boolean>
  lists: Record<string, '*' | string[]>
}

// The reference, read from docs/SECURITY.md ("What a policy hides"): what a condition reads and what that needs.
const EQUALITY = ['=', '!=', '=?', 'in', 'not in']
const COMPARISON = ['<', '>', '<=', '>=']
const LIKE = ['like', 'not like', 'ilike', 'not ilike', '=like', '=ilike']
const HIERARCHY = ['child_of', 'parent_of']
const SUBDOMAIN = ['any', 'not any']
const OPERATORS_OF_TYPE: Record<string, string[]> = {
  char: [...EQUALITY, ...COMPARISON, ...LIKE],
  integer: [...EQUALITY, ...COMPARISON],
  monetary: [...EQUALITY, ...COMPARISON],
  boolean: EQUALITY,
  binary: ['=', '!='],
}

/** Under "*", every field but those named like secrets (here: `password`). */
function sees(visibility: Visibility, model: string, field: string): boolean {
  if (!visibility.readable[model]) return false
  const list = visibility.lists[model]!
  return field === 'id' || (list === '*' ? field !== 'password' : list.includes(field))
}

/** Every hop of a path: a readable model and a visible field, relational where the path goes on. @returns the last hop. */
function referenceWalk(visibility: Visibility, model: string, path: string): { owner: string; field: string } | null {
  const parts = path.split('.')
  let owner = model
  for (const [index, part] of parts.entries()) {
    if (!sees(visibility, owner, part)) return null
    if (index === parts.length - 1) break
    const relation = WORLD[owner]![part]?.relation
    if (!relation) return null
    owner = relation
  }
  return { owner, field: parts[parts.length - 1]! }
}

/** A name search matches fields fields_get does not name: it needs "*". */
const nameSearch = (visibility: Visibility, model: string) => visibility.readable[model]! && visibility.lists[model] === '*'
/** child_of / parent_of walk the model's parent field: every many2one of it to itself must be visible (and one must exist). */
function hierarchy(visibility: Visibility, model: string): boolean {
  const parents = Object.entries(WORLD[model]!).filter(([, info]) => info.type === 'many2one' && info.relation === model).map(([name]) => name)
  return visibility.readable[model]! && parents.length > 0 && parents.every((name) => sees(visibility, model, name))
}
const holdsText = (value: unknown) => (Array.isArray(value) ? value : [value]).some((item) => typeof item === 'string')

/** May a key with `visibility` filter `model` on this condition? */
function referenceAllows(visibility: Visibility, model: string, [path, operator, value]: [string, string, unknown]): boolean {
  const hop = referenceWalk(visibility, model, path)
  if (!hop) return false
  const { owner, field } = hop
  const text = !SUBDOMAIN.includes(operator) && holdsText(value)
  if (field === 'id') {
    const fits = HIERARCHY.includes(operator) ? hierarchy(visibility, owner) : [...EQUALITY, ...COMPARISON].includes(operator)
    return fits && (!text || nameSearch(visibility, owner))
  }
  if (field === 'display_name') return [...EQUALITY, ...LIKE].includes(operator) && nameSearch(visibility, owner)
  const info = WORLD[owner]![field]
  if (!info) return false
  if (info.relation) {
    const target = info.relation
    if (SUBDOMAIN.includes(operator)) {
      const sub = (value as unknown[]).filter((term): term is [string, string, unknown] => Array.isArray(term))
      return visibility.readable[target]! && sub.every((condition) => referenceAllows(visibility, target, condition))
    }
    if (HIERARCHY.includes(operator)) return hierarchy(visibility, target) && (!text || nameSearch(visibility, target))
    if (LIKE.includes(operator)) return nameSearch(visibility, target)
    return EQUALITY.includes(operator) && (!text || nameSearch(visibility, target))
  }
  return OPERATORS_OF_TYPE[info.type]?.includes(operator) ?? false
}

const visibility: fc.Arbitrary<Visibility> = fc
  .record({
    'res.partner': fc.tuple(fc.constant(true), fc.oneof(fc.constant('*' as const), fc.subarray(Object.keys(WORLD['res.partner']!).filter((name) => name !== 'id')))),
    'res.country': fc.tuple(fc.boolean(), fc.oneof(fc.constant('*' as const), fc.subarray(['display_name', 'name', 'code']))),
    'res.users': fc.tuple(fc.boolean(), fc.oneof(fc.constant('*' as const), fc.subarray(['display_name', 'name', 'login', 'password', 'partner_id']))),
    'res.partner.category': fc.tuple(fc.boolean(), fc.oneof(fc.constant('*' as const), fc.subarray(['display_name', 'name', 'parent_category_id']))),
  })
  .map((models) => ({
    readable: Object.fromEntries(Object.entries(models).map(([model, [readable]]) => [model, readable])),
    lists: Object.fromEntries(Object.entries(models).map(([model, [, fields]]) => [model, fields])),
  }))

function policyOf(visibility: Visibility) {
  const parsed = parsePolicy({
    version: 1,
    models: Object.fromEntries(
      Object.entries(visibility.lists).map(([model, fields]) => [model, { operations: visibility.readable[model] ? ['read'] : ['write'], fields }]),
    ),
  })
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  return parsed.policy
}

/** Conditions compare with numbers, with operators every field type takes: the hidden field is the only reason to refuse. */
const numericLeaf = fc.tuple(fc.constantFrom(...FIELD_PATHS), fc.constantFrom('=', '!=', 'in'), fc.integer({ min: 1, max: 9 })).map(
  ([path, op, n]) => [path, op, op === 'in' ? [n] : n] as [string, string, unknown],
)

const OPERATORS = [...EQUALITY, ...COMPARISON, ...LIKE, ...HIERARCHY, ...SUBDOMAIN]
const conditionValue = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 9 }) },
  { weight: 1, arbitrary: fc.constantFrom('acme', '%@example.com') },
  { weight: 1, arbitrary: fc.constant(false) },
)

/** The model a path leads to, if its last field is relational. */
function targetOf(model: string, path: string): string | undefined {
  return path.split('.').reduce<string | undefined>((current, part) => (current ? WORLD[current]![part]?.relation : undefined), model)
}

/** Operators that make sense on the path's last field, so that a fair share of conditions is allowed; any other is also tried. */
function fittingOperators(model: string, path: string): string[] {
  const field = path.split('.').at(-1)!
  if (field === 'id') return [...EQUALITY, ...COMPARISON, ...HIERARCHY]
  if (field === 'display_name') return [...EQUALITY, ...LIKE]
  if (targetOf(model, path)) return [...EQUALITY, ...HIERARCHY, ...SUBDOMAIN, ...SUBDOMAIN]
  const owner = path.split('.').slice(0, -1).reduce((current, part) => WORLD[current]![part]?.relation ?? current, model)
  return OPERATORS_OF_TYPE[WORLD[owner]![field]?.type ?? ''] ?? OPERATORS
}

/** A condition on `model` with any operator and ids, text or false; `any` / `not any` get a sub-domain on the related model. */
function conditionOn(model: string, depth: number): fc.Arbitrary<unknown> {
  return fc
    .constantFrom(...PATHS[model]!)
    .chain((path) => fc.tuple(fc.constant(path), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...fittingOperators(model, path)) }, { weight: 1, arbitrary: fc.constantFrom(...OPERATORS) })))
    .chain(([path, operator]): fc.Arbitrary<unknown> => {
      if (SUBDOMAIN.includes(operator)) {
        const target = targetOf(model, path) ?? model
        const sub = depth > 0 ? wellFormedDomain(conditionOn(target, depth - 1), 2) : fc.constant([])
        return fc.oneof(sub, fc.constant([])).map((terms) => [path, operator, terms])
      }
      const value = operator === 'in' || operator === 'not in' ? fc.array(conditionValue, { maxLength: 2 }) : conditionValue
      return value.map((v) => [path, operator, v])
    })
}

/** A well-formed domain built from a random formula, with conditions drawn from `leafArb`. */
function wellFormedDomain(leafArb: fc.Arbitrary<unknown>, formulas = 3): fc.Arbitrary<unknown[]> {
  const { formula } = fc.letrec<{ formula: unknown[] }>((tie) => ({
    formula: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leafArb.map((l) => [l]),
      tie('formula').map((f) => ['!', ...f]),
      fc.tuple(fc.constantFrom('&', '|'), tie('formula'), tie('formula')).map(([op, a, b]) => [op, ...a, ...b]),
    ),
  }))
  return fc.array(formula, { minLength: 1, maxLength: formulas }).map((parts) => parts.flat())
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
  /** Whether the guard lets a count of res.partner through with this domain (a refusal must be the policy's). */
  const authorize = async (visibility: Visibility, input: unknown) => {
    const guard = createPolicyGuard(policyOf(visibility), metadata)
    try {
      await guard.authorize({ tool: 'count_records', model: 'res.partner', operation: 'read', domain: parseDomain(input) })
      return true
    } catch (error) {
      if (error instanceof ToolError && error.code === 'policy_denied') return false
      throw error
    }
  }

  it('lets a domain through exactly when the reference allows every condition in it (fields hop by hop, operators per type, name searches, hierarchies, any)', async () => {
    await fc.assert(
      fc.asyncProperty(visibility, wellFormedDomain(conditionOn('res.partner', 2), 2), async (visibility, input) => {
        const conditions = input.filter((term): term is [string, string, unknown] => Array.isArray(term))
        const expected = conditions.every((condition) => referenceAllows(visibility, 'res.partner', condition))
        expect(await authorize(visibility, input), JSON.stringify(input)).toBe(expected)
      }),
      { numRuns: 1500 },
    )
  })

  it('refuses a hidden field wherever it hides: under ! or |, at the end or in the middle of a dotted path', async () => {
    const hiddenSomewhere = visibility.chain((visibility) => {
      const hiddenPaths = FIELD_PATHS.filter((path) => !referenceWalk(visibility, 'res.partner', path))
      if (hiddenPaths.length === 0) return fc.constant(null)
      const hiddenLeaf = fc.tuple(fc.constantFrom(...hiddenPaths), fc.constantFrom('=', '!=', 'in')).map(([path, op]) => [path, op, op === 'in' ? [1] : 1])
      return fc
        .tuple(wellFormedDomain(numericLeaf), hiddenLeaf, fc.constantFrom('!', '|', '&', 'top', 'any'), fc.nat())
        .map(([domain, hidden, wrap, at]) => {
          // Put the hidden condition inside a random operator, before or after the rest of the domain, or in the
          // sub-domain of an `any` on a path that leads back to res.partner.
          const wrapped =
            wrap === 'top' ? [hidden] : wrap === '!' ? ['!', hidden] : wrap === 'any' ? [['child_ids', 'any', [hidden]]] : [wrap, hidden, ['id', '=', 1]]
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
