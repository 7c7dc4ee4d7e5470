import { describe, expect, it } from 'vitest'
import { domainLeaves, MAX_DOMAIN_TERMS, parseDomain } from '../../../src/domain/domain'
import { parseAggregates, parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError } from '../../../src/errors'

function error(fn: () => unknown): ToolError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(ToolError)
    return e as ToolError
  }
  throw new Error('expected a ToolError')
}

describe('parseDomain', () => {
  it('accepts the empty domain as "all records"', () => {
    expect(parseDomain(undefined)).toEqual({ terms: [], tree: null })
    expect(parseDomain([])).toEqual({ terms: [], tree: null })
  })

  it('builds a tree from prefix notation with implicit AND', () => {
    const { tree, terms } = parseDomain(['|', ['state', '=', 'sale'], ['amount_total', '>', 1000], ['partner_id.country_id.code', '=', 'BE']])
    expect(terms).toHaveLength(4)
    expect(tree).toMatchObject({
      kind: 'and',
      operands: [
        { kind: 'or', operands: [{ kind: 'leaf', path: ['state'] }, { kind: 'leaf', path: ['amount_total'] }] },
        { kind: 'leaf', path: ['partner_id', 'country_id', 'code'], operator: '=', value: 'BE' },
      ],
    })
  })

  it('handles nested negation and every operator', () => {
    const operators = ['=', '!=', '<', '>', '<=', '>=', '=?', 'like', 'not like', 'ilike', 'not ilike', '=like', '=ilike', 'child_of', 'parent_of']
    for (const operator of operators) expect(parseDomain([['name', operator, 'x']]).tree).toMatchObject({ kind: 'leaf', operator })
    expect(parseDomain([['id', 'in', [1, 2]], ['id', 'not in', []]]).terms).toHaveLength(2)
    const { tree } = parseDomain(['!', '|', ['a', '=', 1], '!', ['b', '=', 2]])
    expect(tree).toMatchObject({ kind: 'not', operand: { kind: 'or', operands: [{ kind: 'leaf' }, { kind: 'not', operand: { kind: 'leaf' } }] } })
    expect(domainLeaves(tree).map((l) => l.path[0])).toEqual(['a', 'b'])
  })

  it('normalises <> to != and keeps the rest verbatim', () => {
    expect(parseDomain([['state', '<>', 'cancel']]).terms).toEqual([['state', '!=', 'cancel']])
  })

  it.each([
    ['a string instead of a list', "[('state','=','sale')]", /must be a JSON array/],
    ['an unknown operator', [['name', 'likee', 'x']], /term 1 .*unknown operator "likee"/],
    ['a two-element leaf', [['name', '=']], /term 1 .*\[field, operator, value\] triple/],
    ['a four-element leaf', [['name', '=', 'a', 'b']], /triple/],
    ['an object term', [{ field: 'name' }], /triple/],
    ['an unknown logical operator', ['^', ['a', '=', 1], ['b', '=', 2]], /unknown logical operator/],
    ['a dangling |', ['|', ['a', '=', 1]], /term 1 \('\|'\) needs two operands/],
    ['a dangling !', [['a', '=', 1], '!'], /term 2 \('!'\) has no condition/],
    ['a lone &', ['&'], /needs two operands/],
    ['an injected field name', [['name) or 1=1 --', '=', 1]], /not a valid field name/],
    ['an empty path segment', [['partner_id..email', '=', 1]], /not a valid field name/],
    ['a too deep path', [['a.b.c.d.e', '=', 1]], /deeper than 4 levels/],
    ['a scalar for in', [['id', 'in', 5]], /needs a list value/],
    ['a list for =', [['id', '=', [1, 2]]], /single value, not a list/],
    ['an object value', [['name', '=', { $ne: 1 }]], /values must be strings/],
    ['a nested list value', [['id', 'in', [[1]]]], /values must be strings/],
    ['a non-finite number', [['amount', '>', Number.NaN]], /finite|values must be/],
    ['a numeric field', [[1, '=', 1]], /non-empty string/],
  ])('refuses %s with a message naming the problem', (_label, input, message) => {
    const e = error(() => parseDomain(input))
    expect(e.code).toBe('invalid_domain')
    expect(e.message).toMatch(message)
  })

  it('refuses a deeply nested term with a ToolError (quoting it in the message must not overflow the stack)', () => {
    // A 1 MiB body can nest arrays 500,000 deep; JSON.parse takes that, JSON.stringify (recursive) may not.
    let deep: unknown = 'x'
    for (let level = 0; level < 500_000; level++) deep = [deep]
    for (const input of [[deep], [['name', '=', deep]], [[deep, '=', 1]], [['name', deep, 1]]]) {
      expect(error(() => parseDomain(input)).code).toBe('invalid_domain')
    }
  })

  it('caps the size of a domain', () => {
    const big = Array.from({ length: MAX_DOMAIN_TERMS + 1 }, () => ['id', '=', 1])
    expect(error(() => parseDomain(big)).message).toMatch(/more than 200 terms/)
    expect(error(() => parseDomain([['id', 'in', Array.from({ length: 1001 }, (_, i) => i)]])).message).toMatch(/more than 1000 values/)
    expect(error(() => parseDomain([['name', '=', 'x'.repeat(1001)]])).message).toMatch(/1000 characters/)
  })
})

describe('parseOrder', () => {
  it('canonicalises valid orders', () => {
    expect(parseOrder('date_order DESC,  name')).toEqual({
      terms: [{ field: 'date_order', direction: 'desc' }, { field: 'name', direction: 'asc' }],
      odoo: 'date_order desc, name asc',
    })
    expect(parseOrder('name desc nulls last').odoo).toBe('name desc nulls last')
    expect(parseOrder(undefined)).toEqual({ terms: [], odoo: undefined })
  })

  it.each(['name; DROP TABLE res_partner', 'name desc, (select 1)', 'name sideways', 'partner_id.name', 'name desc nulls', ','])(
    'refuses %j',
    (order) => {
      expect(error(() => parseOrder(order)).code).toBe('invalid_order')
    },
  )
})

describe('parseGroupBy / parseAggregates', () => {
  it('accepts fields, granularities and field:function aggregates', () => {
    expect(parseGroupBy(['partner_id', 'date_order:month'])).toEqual([
      { field: 'partner_id', spec: 'partner_id' },
      { field: 'date_order', granularity: 'month', spec: 'date_order:month' },
    ])
    expect(parseAggregates(['amount_total:sum', 'id:count_distinct'])).toEqual([
      { field: 'amount_total', fn: 'sum', spec: 'amount_total:sum' },
      { field: 'id', fn: 'count_distinct', spec: 'id:count_distinct' },
    ])
  })

  it('refuses unknown granularities, functions and SQL-ish aggregates', () => {
    expect(error(() => parseGroupBy(['date_order:fortnight'])).message).toMatch(/unknown granularity 'fortnight'/)
    expect(error(() => parseGroupBy([])).code).toBe('invalid_groupby')
    expect(error(() => parseAggregates(['amount_total:median'])).code).toBe('invalid_aggregate')
    expect(error(() => parseAggregates(['total:sum(amount_total)'])).code).toBe('invalid_aggregate')
    expect(error(() => parseAggregates(['amount_total'])).code).toBe('invalid_aggregate')
  })
})
