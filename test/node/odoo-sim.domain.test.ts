// The simulator's domain language against its demo data: every operator, nesting, dotted paths, False semantics,
// and the ValueErrors of Odoo 18 and 19 for bad domains.
import { describe, expect, it } from 'vitest'
import { andDomains, normalizeDomain } from '../odoo-sim/domain'
import { OdooError } from '../odoo-sim/errors'
import { makeEnv } from '../odoo-sim/orm/env'
import { searchRecords } from '../odoo-sim/orm/search'
import { createState, sessionUser, type SimState } from '../odoo-sim/state'
import type { Json, JsonObject, OdooVersion } from '../odoo-sim/types'

const states = new Map<OdooVersion, SimState>([
  [18, createState({ version: 18 })],
  [19, createState({ version: 19 })],
])

function search(
  domain: Json[],
  options: { model?: string; version?: OdooVersion; uid?: number; context?: JsonObject; order?: string } = {},
): number[] {
  const state = states.get(options.version ?? 18) as SimState
  const user = sessionUser(state, options.uid ?? 2)
  if (!user) throw new Error('no such user')
  const env = makeEnv(state.db, user, options.context ?? {})
  const model = state.db.model(options.model ?? 'res.partner')
  return searchRecords(env, model, domain, { order: options.order ?? 'id' }).map((r) => r.id)
}

function errorOf(run: () => unknown): OdooError {
  try {
    run()
  } catch (error) {
    if (error instanceof OdooError) return error
    throw error
  }
  throw new Error('expected an OdooError')
}

const ALL_ORDERS = Array.from({ length: 20 }, (_, i) => i + 1)

describe('comparison operators', () => {
  it('= and != on char, != keeping empty values like SQL through Odoo', () => {
    expect(search([['name', '=', 'Azure Interior']])).toEqual([15])
    expect(search([['name', '=', 'azure interior']])).toEqual([])
    const notAzure = search([['email', '!=', 'azure.Interior24@example.com']])
    expect(notAzure).not.toContain(15)
    expect(notAzure).toContain(40) // Kevin Clarke has no email
  })

  it('False matches unset values: (email, =, False) / (email, !=, False)', () => {
    expect(search([['email', '=', false]])).toEqual([40, 41])
    const withEmail = search([['email', '!=', false]])
    expect(withEmail).not.toContain(40)
    expect(withEmail.length + 2).toBe(search([]).length)
  })

  it('<, >, <=, >= on numbers', () => {
    expect(search([['amount_total', '>', 2240]], { model: 'sale.order' })).toEqual([2, 20])
    expect(search([['amount_total', '>=', 2240]], { model: 'sale.order' })).toEqual([2, 4, 20])
    expect(search([['amount_total', '<', 377.5]], { model: 'sale.order' })).toEqual([18, 19])
    expect(search([['amount_total', '<=', 377.5]], { model: 'sale.order' })).toEqual([3, 18, 19])
  })

  it('compares dates as strings, a date against a datetime field meaning midnight', () => {
    expect(search([['date_order', '>=', '2026-11-13']], { model: 'sale.order' })).toEqual([19, 20])
    expect(search([['date_order', '<', '2026-10-27 00:00:00']], { model: 'sale.order' })).toEqual([1])
    expect(search([['validity_date', '=', '2026-11-25']], { model: 'sale.order' })).toEqual([1])
  })

  it('in / not in, with False standing for unset', () => {
    expect(search([['id', 'in', [15, 27, 999]]])).toEqual([15, 27])
    expect(search([['state', 'in', ['draft', 'sent']]], { model: 'sale.order' })).toEqual([1, 2, 3, 5, 11])
    expect(search([['state', 'not in', ['sale']]], { model: 'sale.order' })).toEqual([1, 2, 3, 5, 11])
    expect(search([['email', 'in', [false, 'info@yourcompany.com']]])).toEqual([1, 40, 41])
    expect(search([['parent_id', 'in', [15]]])).toEqual([27, 34, 35])
  })

  it('like is case-sensitive, ilike is not; both match substrings', () => {
    expect(search([['name', 'like', 'Azure']])).toEqual([15])
    expect(search([['name', 'like', 'azure']])).toEqual([])
    expect(search([['name', 'ilike', 'azure']])).toEqual([15])
    expect(search([['complete_name', 'ilike', 'azure']])).toEqual([15, 27, 34, 35])
    const withoutA = search([['name', 'not ilike', 'a']])
    expect(withoutA).toContain(11) // Gemini Furniture
    expect(withoutA.some((id) => [10, 12, 15].includes(id))).toBe(false)
  })

  it('=like / =ilike take SQL patterns with % and _', () => {
    expect(search([['name', '=like', 'S0000_']], { model: 'sale.order' })).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(search([['name', '=ilike', 's0001%']], { model: 'sale.order' })).toEqual([
      10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    ])
    expect(search([['email', '=ilike', '%@EXAMPLE.org']])).toEqual([])
    expect(search([['name', '=like', 'Azure%']])).toEqual([15])
  })

  it('=? ignores the leaf when the value is False', () => {
    expect(search([['state', '=?', false]], { model: 'sale.order' })).toEqual(ALL_ORDERS)
    expect(search([['state', '=?', 'sent']], { model: 'sale.order' })).toEqual([5])
  })
})

describe('logic and paths', () => {
  it('joins leaves with an implicit &', () => {
    expect(
      search([
        ['is_company', '=', true],
        ['name', 'ilike', 'in'],
      ]),
    ).toEqual([11, 15, 16])
  })

  it('nests &, | and ! in prefix notation', () => {
    expect(
      search(['|', ['state', '=', 'sent'], '&', ['state', '=', 'draft'], ['amount_total', '<', 1000]], {
        model: 'sale.order',
      }),
    ).toEqual([3, 5, 11])
    expect(search(['!', ['state', '=', 'sale']], { model: 'sale.order' })).toEqual([1, 2, 3, 5, 11])
    expect(search(['!', '|', ['state', '=', 'sale'], ['state', '=', 'draft']], { model: 'sale.order' })).toEqual([5])
    expect(search(['&', '|', ['id', '=', 1], ['id', '=', 2], '!', ['id', '=', 2]], { model: 'sale.order' })).toEqual([
      1,
    ])
  })

  it('follows dotted paths over many2one fields', () => {
    expect(search([['partner_id.name', 'ilike', 'gemini']], { model: 'sale.order' })).toHaveLength(13)
    expect(search([['partner_id.country_id.code', '=', 'US']], { model: 'sale.order' })).toEqual(ALL_ORDERS)
    expect(search([['partner_id.parent_id.name', '=', 'YourCompany']], { model: 'sale.order' })).toEqual([10, 20])
    expect(search([['user_id.login', '=', 'sales_agent']], { model: 'sale.order' })).toEqual([1, 2, 3])
  })

  it('follows dotted paths over x2many fields with "any" semantics', () => {
    expect(search([['order_line.product_id.default_code', '=', 'FURN_8220']], { model: 'sale.order' })).toEqual([2, 20])
    expect(search([['child_ids.name', '=', 'Colleen Diaz']])).toEqual([15])
  })

  it('supports any / not any with a sub-domain', () => {
    expect(search([['order_line', 'any', [['product_uom_qty', '>=', 4]]]], { model: 'sale.order' })).toEqual([
      2, 4, 10, 18,
    ])
    expect(search([['order_line', 'not any', [['product_id', '=', 1]]]], { model: 'sale.order' })).toHaveLength(14)
  })

  it('compares a many2one with an id, with False, or with a name', () => {
    expect(search([['partner_id', '=', 12]], { model: 'sale.order' })).toEqual([2, 3])
    expect(search([['partner_id', '=', 'Ready Mat']], { model: 'sale.order' })).toEqual([2, 3])
    expect(search([['partner_id', 'ilike', 'ready']], { model: 'sale.order' })).toEqual([2, 3])
    expect(search([['partner_id', '!=', 11]], { model: 'sale.order' })).toEqual([1, 2, 3, 8, 10, 11, 20])
    expect(
      search([
        ['parent_id', '=', false],
        ['is_company', '=', false],
        ['email', '=', false],
      ]),
    ).toEqual([40, 41])
  })

  it('supports child_of and parent_of over parent_id', () => {
    expect(search([['id', 'child_of', 15]])).toEqual([15, 27, 34, 35])
    expect(search([['id', 'parent_of', 27]])).toEqual([15, 27])
    expect(search([['partner_id', 'child_of', 1]], { model: 'sale.order' })).toEqual([10, 20])
  })

  it('accepts the constant leaves (1, =, 1) and (0, =, 1)', () => {
    expect(search([[1, '=', 1]], { model: 'sale.order' })).toEqual(ALL_ORDERS)
    expect(search([[0, '=', 1]], { model: 'sale.order' })).toEqual([])
  })

  it('hides archived records unless the domain mentions active or active_test is off', () => {
    expect(search([['id', 'in', [1, 2, 3, 4, 5]]])).toEqual([1, 3])
    expect(search([['active', '=', false]])).toEqual([2, 4, 5])
    expect(search([['id', 'in', [2, 3]]], { context: { active_test: false } })).toEqual([2, 3])
  })

  it('normalizes and combines domains like expression.normalize_domain / AND', () => {
    expect(
      normalizeDomain([
        ['a', '=', 1],
        ['b', '=', 2],
      ]),
    ).toEqual(['&', ['a', '=', 1], ['b', '=', 2]])
    expect(normalizeDomain([])).toEqual([[1, '=', 1]])
    expect(andDomains([[], [['state', '=', 'draft']]])).toEqual([['state', '=', 'draft']])
    expect(
      andDomains([
        [['a', '=', 1]],
        [
          ['b', '=', 2],
          ['c', '=', 3],
        ],
      ]),
    ).toEqual(['&', ['a', '=', 1], '&', ['b', '=', 2], ['c', '=', 3]])
  })
})

describe('domain errors', () => {
  it('reports an unknown operator as Odoo 18 ("Invalid leaf") and 19 ("Invalid operator in condition")', () => {
    const e18 = errorOf(() => search([['name', 'no-such-op', 1]], { version: 18 }))
    expect([e18.exceptionName, e18.message]).toEqual(['builtins.ValueError', "Invalid leaf ('name', 'no-such-op', 1)"])
    const e19 = errorOf(() => search([['name', 'likee', 'Azure']], { version: 19 }))
    expect([e19.exceptionName, e19.message]).toEqual([
      'builtins.ValueError',
      "Invalid operator in condition ('name', 'likee', 'Azure')",
    ])
  })

  it('reports unknown fields, also at the end of a dotted path', () => {
    expect(errorOf(() => search([['no_such_field', '=', 1]], { version: 18 })).message).toBe(
      "Invalid field res.partner.no_such_field in leaf ('no_such_field', '=', 1)",
    )
    expect(errorOf(() => search([['no_such_field', '=', 'x']], { version: 19 })).message).toBe(
      "Invalid field res.partner.no_such_field in condition ('no_such_field', '=', 'x')",
    )
    expect(errorOf(() => search([['partner_id.nope', '=', 1]], { model: 'sale.order' })).message).toBe(
      "Invalid field res.partner.nope in leaf ('nope', '=', 1)",
    )
  })

  it('checks fields before operators in Odoo 18, operators first in Odoo 19', () => {
    const domain: Json[] = [
      ['name', 'bad-op', 1],
      ['nope', '=', 1],
    ]
    expect(errorOf(() => search(domain, { version: 18 })).message).toBe(
      "Invalid field res.partner.nope in leaf ('nope', '=', 1)",
    )
    expect(errorOf(() => search(domain, { version: 19 })).message).toBe(
      "Invalid operator in condition ('name', 'bad-op', 1)",
    )
  })

  it('shows values as Python reprs', () => {
    expect(errorOf(() => search([['active', 'is', true]])).message).toBe("Invalid leaf ('active', 'is', True)")
    expect(errorOf(() => search([['name', 'is', null]])).message).toBe("Invalid leaf ('name', 'is', None)")
    expect(errorOf(() => search([['name', 'is', "O'Brien"]])).message).toBe("Invalid leaf ('name', 'is', \"O'Brien\")")
    expect(errorOf(() => search([['id', 'among', [1, 2]]])).message).toBe("Invalid leaf ('id', 'among', [1, 2])")
  })

  it('rejects a domain missing operands', () => {
    const error = errorOf(() => search(['|', ['name', '=', 'x']]))
    expect(error.exceptionName).toBe('builtins.ValueError')
    expect(error.message).toBe("Domain ['|', ('name', '=', 'x')] is syntactically not correct.")
  })
})
