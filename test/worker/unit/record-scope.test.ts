/**
 * The pure parts of record filters (src/guard/record-scope.ts, src/policy/record-filter.ts), property-tested:
 * - a domain tree written back to prefix notation parses to the same tree (what is sent to Odoo means what was checked);
 * - evaluating a filter on create values agrees with a reference evaluator of Odoo's prefix notation, written here
 *   from Odoo's semantics (a stack, right to left), whenever the gateway decides;
 * - placeholders resolve to the call's values and nothing else.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseDomain, type DomainNode } from '../../../src/domain/domain'
import { conjuncts, evaluateOnValues, pinnedValues, toTerms } from '../../../src/guard/record-scope'
import { compileRecordFilter, resolveRecordFilter } from '../../../src/policy/record-filter'

const FIELDS = ['a', 'b', 'c'] as const
const scalar = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y'), fc.constant(false))
const leaf = fc.oneof(
  fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom('=', '!=', '<', '>', '<=', '>='), scalar),
  fc.tuple(fc.constantFrom(...FIELDS), fc.constantFrom('in', 'not in'), fc.array(scalar, { maxLength: 3 })),
)
/** A random prefix-notation domain: well-formed by construction. */
const expression: fc.Arbitrary<unknown[]> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf.map((l) => [l]),
    fc.tuple(fc.constantFrom('&', '|'), tie('node'), tie('node')).map(([op, x, y]) => [op, ...(x as unknown[]), ...(y as unknown[])]),
    tie('node').map((x) => ['!', ...(x as unknown[])]),
  ),
})).node as fc.Arbitrary<unknown[]>
/** Several expressions side by side: Odoo's implicit AND. */
const domain = fc.array(expression, { minLength: 1, maxLength: 3 }).map((parts) => parts.flat())

/** Reference: Odoo's own reading of a domain on one record (comparisons as SQL would for these types). */
function reference(terms: unknown[], record: Record<string, unknown>): boolean {
  const stack: boolean[] = []
  for (let i = terms.length - 1; i >= 0; i--) {
    const term = terms[i]
    if (term === '!') stack.push(!stack.pop()!)
    else if (term === '&' || term === '|') {
      const x = stack.pop()!
      const y = stack.pop()!
      stack.push(term === '&' ? x && y : x || y)
    } else {
      const [field, op, value] = term as [string, string, unknown]
      const v = record[field]
      const eq = (a: unknown, b: unknown) => a === b
      const ordered = (typeof v === 'number' && typeof value === 'number') || (typeof v === 'string' && typeof value === 'string')
      const cmp = (f: (x: number | string, y: number | string) => boolean) => ordered && f(v as number | string, value as number | string)
      stack.push(
        op === '=' ? eq(v, value)
          : op === '!=' ? !eq(v, value)
            : op === 'in' ? (value as unknown[]).some((item) => eq(v, item))
              : op === 'not in' ? !(value as unknown[]).some((item) => eq(v, item))
                : op === '<' ? cmp((x, y) => x < y)
                  : op === '>' ? cmp((x, y) => x > y)
                    : op === '<=' ? cmp((x, y) => x <= y)
                      : cmp((x, y) => x >= y),
      )
    }
  }
  return stack.every(Boolean)
}

/**
 * A tree without positions (they number terms in the text, which writing back renumbers), nested ANDs / ORs
 * flattened (`a ∧ b ∧ c` is written back as `& a & b c`).
 */
function shape(node: DomainNode | null): unknown {
  if (!node) return null
  if (node.kind === 'leaf') return [node.path, node.operator, node.value]
  if (node.kind === 'not') return ['!', shape(node.operand)]
  const flat = (n: DomainNode): DomainNode[] => (n.kind === node.kind ? (n as { operands: DomainNode[] }).operands.flatMap(flat) : [n])
  return [node.kind, flat(node).map(shape)]
}

describe('record scope, pure parts', () => {
  it('writes a tree back to terms that parse to the same tree', () => {
    fc.assert(
      fc.property(domain, (terms) => {
        const { tree } = parseDomain(terms)
        expect(shape(parseDomain(toTerms(tree)).tree)).toEqual(shape(tree))
        // And the text sent means what the original meant, on any record.
        const record = { a: 1, b: 'x', c: false }
        expect(reference(toTerms(tree), record)).toBe(reference(terms, record))
      }),
      { numRuns: 500 },
    )
  })

  it('evaluates a filter on values as Odoo would read the record', () => {
    fc.assert(
      fc.property(domain, fc.record({ a: scalar, b: scalar, c: scalar }), (terms, record) => {
        const verdict = evaluateOnValues(parseDomain(terms).tree, record)
        expect(verdict.decided).toBe(true)
        if (verdict.decided) expect(verdict.inside).toBe(reference(terms, record))
      }),
      { numRuns: 1000 },
    )
  })

  it('never decides without the values a filter reads, and fills in only what the filter pins', () => {
    fc.assert(
      fc.property(domain, fc.record({ a: scalar, b: scalar }, { requiredKeys: [] }), (terms, partial) => {
        const { tree } = parseDomain(terms)
        const complete = { ...pinnedValues(tree), ...partial }
        const verdict = evaluateOnValues(tree, complete)
        const reads = new Set(toTerms(tree).filter(Array.isArray).map((leaf) => (leaf as unknown[])[0]))
        if ([...reads].some((field) => !(field as string in complete))) expect(verdict.decided).toBe(false)
        // A pinned value satisfies the top-level condition that pinned it, so it never pushes a record out by itself.
        for (const [field, value] of Object.entries(pinnedValues(tree))) {
          const pinning = conjuncts(tree).find((node) => node.kind === 'leaf' && node.path[0] === field &&
            ((node.operator === '=' && node.value !== false && node.value !== null) || (node.operator === 'in' && Array.isArray(node.value) && node.value.length > 0)))!
          expect(reference(toTerms(pinning), { [field]: value })).toBe(true)
        }
      }),
      { numRuns: 500 },
    )
  })

  it('refuses a create when the filter reads a path or a sub-domain', () => {
    for (const terms of [[['partner_id.name', '=', 'x']], [['partner_id', 'any', [['name', '=', 'x']]]], [['id', 'child_of', 3]]]) {
      const verdict = evaluateOnValues(parseDomain(terms).tree, { partner_id: 3, id: 3, name: 'x' })
      expect(verdict.decided).toBe(false)
    }
  })

  it('resolves placeholders to the call\'s values only, in conditions\' values', () => {
    const compiled = compileRecordFilter(['|', ['user_id', '=', '$uid'], '&', ['company_id', 'in', '$company_ids'], ['date', '<=', '$today']], true)
    expect(compiled.ok).toBe(true)
    if (!compiled.ok) return
    expect(resolveRecordFilter(compiled.filter, { uid: 42, companyIds: [3, 5], today: '2026-12-05' }).terms).toEqual([
      '|', ['user_id', '=', 42], '&', ['company_id', 'in', [3, 5]], ['date', '<=', '2026-12-05'],
    ])
    // A field or operator that looks like a placeholder is not one.
    const literal = compileRecordFilter([['$uid', '=', 1]], false)
    expect(literal.ok).toBe(false)
  })
})
