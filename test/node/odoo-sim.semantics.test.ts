// Odoo's semantics where a value can influence an answer indirectly, in both versions: child_of / parent_of (the
// model's parent field, names resolved by display_name, models without a parent field), display_name conditions
// (_search_display_name over _rec_names_search), names on relational fields, any / not any and dotted paths with
// the implicit active filter of their sub-searches, x2many values on read, x2many commands, writable related
// fields, and the display-name decoration hook (Db.displayNameDecoration).
// Sources: 18 odoo/osv/expression.py (to_ids, child_of_domain, parent_of_domain, parse), odoo/models.py
// (_search_display_name, name_search); 19 odoo/orm/domains.py (_operator_hierarchy, _value_to_ids,
// _optimize_relational_name_search), odoo/orm/fields_relational.py (Many2one.condition_to_sql,
// _RelationalMulti.convert_to_record, One2many.read / write_real).
import { describe, expect, it } from 'vitest'
import { compileDomain } from '../odoo-sim/domain'
import { OdooError } from '../odoo-sim/errors'
import { createState, handleOdooRequest, type SimState } from '../odoo-sim/handler'
import { makeEnv } from '../odoo-sim/orm/env'
import { searchRecords } from '../odoo-sim/orm/search'
import { sessionUser } from '../odoo-sim/state'
import type { Json, JsonObject, OdooVersion } from '../odoo-sim/types'

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

function search(state: SimState, model: string, domain: Json[], context: JsonObject = {}): number[] {
  const user = sessionUser(state, 2)
  if (!user) throw new Error('no admin')
  return searchRecords(makeEnv(state.db, user, context), state.db.model(model), domain, { order: 'id' }).map((r) => r.id)
}

/** The ids of `model` a domain matches, compiled with a context (what searchRecords passes on is its own affair). */
function matching(state: SimState, model: string, domain: Json[], context: JsonObject = {}): number[] {
  const runtime = state.db.model(model)
  const predicate = compileDomain(domain, runtime, { db: state.db, version: state.version, context })
  return [...state.db.table(model).values()]
    .filter((record) => (context['active_test'] === false || record['active'] !== false) && predicate(record))
    .map((record) => record.id)
    .sort((a, b) => a - b)
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

/** execute_kw over /jsonrpc as admin. */
function rpc(state: SimState, model: string, method: string, args: JsonValue[], kwargs: JsonObject = {}): JsonValue {
  const response = handleOdooRequest(state, {
    method: 'POST',
    path: '/jsonrpc',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      method: 'call',
      id: 1,
      params: { service: 'object', method: 'execute_kw', args: ['mcp_demo', 2, 'admin', model, method, args, kwargs] },
    }),
  })
  const body = JSON.parse(response.body) as { result?: JsonValue; error?: { data: { name: string; message: string } } }
  if (body.error) throw new Error(`${body.error.data.name}: ${body.error.data.message}`)
  return body.result ?? null
}

function archive(state: SimState, model: string, ...ids: number[]): void {
  for (const id of ids) state.db.update(model, id, { active: false })
}

describe.each([18, 19] as const)('Odoo %s', (version: OdooVersion) => {
  const fresh = () => createState({ version })

  describe('child_of / parent_of', () => {
    it("follow the model's parent field (_parent_name) at any depth, the value included", () => {
      const state = fresh()
      expect(search(state, 'hr.employee', [['id', 'child_of', 2]])).toEqual([2, 3, 5, 10, 11, 12, 14, 17, 20])
      expect(search(state, 'hr.employee', [['id', 'parent_of', 3]])).toEqual([1, 2, 3, 11])
      expect(search(state, 'res.partner', [['id', 'child_of', [15]]])).toEqual([15, 27, 34, 35])
      expect(search(state, 'res.partner', [['id', 'child_of', false]])).toEqual([])
    })

    it('on a many2one to the model itself, expand the ids over that field (the value included)', () => {
      const state = fresh()
      expect(search(state, 'res.partner', [['parent_id', 'child_of', 15]])).toEqual([15, 27, 34, 35])
      expect(search(state, 'hr.employee', [['parent_id', 'parent_of', 3]])).toEqual([1, 2, 3, 11])
    })

    it("on a many2one to another model, follow the comodel's hierarchy", () => {
      const state = fresh()
      expect(search(state, 'product.product', [['categ_id', 'child_of', 1]])).toHaveLength(20)
      expect(search(state, 'product.product', [['categ_id', 'child_of', 4]])).toEqual([20])
      const outsideAdministration = search(state, 'hr.employee', [['department_id', 'child_of', 4]])
      expect(outsideAdministration).toHaveLength(19)
      expect(outsideAdministration).not.toContain(18)
    })

    it('walk through archived records (the hierarchy is resolved with active_test=False)', () => {
      const state = fresh()
      archive(state, 'hr.employee', 11)
      expect(search(state, 'hr.employee', [['id', 'child_of', 2]])).toEqual([2, 3, 5, 10, 12, 14, 17, 20])
    })

    it('resolve a text value by display_name ilike on the hierarchy model, then expand', () => {
      const state = fresh()
      expect(search(state, 'res.partner', [['id', 'child_of', 'Azure Interior']])).toEqual([15, 27, 34, 35])
      expect(search(state, 'hr.employee', [['parent_id', 'child_of', 'Keith']])).toEqual([3, 10, 11])
      // '[FURN_7777] Office Chair' is a display name, but no _rec_names_search field holds it: nothing, no error.
      expect(search(state, 'product.product', [['id', 'child_of', '[FURN_7777] Office Chair']])).toEqual([])
    })

    it('fail on a model without a parent field, with an integer or a resolved text value', () => {
      const state = fresh()
      const byText = errorOf(() => search(state, 'product.product', [['id', 'child_of', 'Office Chair']]))
      const byId = errorOf(() => search(state, 'product.product', [['id', 'child_of', 10]]))
      const upwards = errorOf(() => search(state, 'product.product', [['id', 'parent_of', 10]]))
      if (version === 18) {
        for (const error of [byText, byId, upwards]) expect([error.exceptionName, error.message]).toEqual(['builtins.KeyError', 'parent_id'])
      } else {
        expect(byText.message).toBe("Invalid field product.product.parent_id in condition ('parent_id', 'in', OrderedSet([10, 16]))")
        expect(byId.message).toBe("Invalid field product.product.parent_id in condition ('parent_id', 'in', OrderedSet([10]))")
        expect(byId.exceptionName).toBe('builtins.ValueError')
        expect([upwards.exceptionName, upwards.message]).toEqual(['builtins.KeyError', 'parent_id'])
      }
    })
  })

  describe('display_name conditions and names on relational fields', () => {
    it("search _rec_names_search, not the display name itself ('=' and 'ilike' on each field, ORed)", () => {
      const state = fresh()
      expect(search(state, 'res.partner', [['display_name', 'ilike', 'brandon.freeman55']])).toEqual([27])
      expect(search(state, 'res.partner', [['display_name', '=', 'Azure Interior, Brandon Freeman']])).toEqual([27])
      expect(search(state, 'res.partner', [['display_name', '=', 'Brandon Freeman']])).toEqual([])
      expect(search(state, 'product.product', [['display_name', 'ilike', 'FURN_7777']])).toEqual([10])
      expect(search(state, 'product.product', [['display_name', 'ilike', '[FURN_7777] Office Chair']])).toEqual([])
    })

    it('AND the fields for a negative operator (an empty field matches it), and like "" matches everything', () => {
      const state = fresh()
      const notAzure = search(state, 'res.partner', [['display_name', 'not ilike', 'azure']])
      expect(notAzure).not.toContain(15)
      expect(notAzure).not.toContain(27)
      expect(notAzure).toContain(40) // no email, no ref, no VAT
      expect(search(state, 'res.partner', [['display_name', 'ilike', '']])).toHaveLength(search(state, 'res.partner', []).length)
      expect(search(state, 'res.partner', [['display_name', 'not ilike', '']])).toEqual([])
    })

    it('resolve names on a many2one with the positive operator; a negative one keeps the other records', () => {
      const state = fresh()
      expect(search(state, 'sale.order', [['partner_id', 'ilike', 'gemini']])).toHaveLength(13)
      expect(search(state, 'sale.order', [['partner_id', 'not ilike', 'gemini']])).toHaveLength(7)
      expect(search(state, 'sale.order', [['partner_id', '=', 'Ready Mat']])).toEqual([2, 3])
      expect(search(state, 'sale.order', [['partner_id', 'in', ['Ready Mat', 'Lumber Inc']]])).toEqual([2, 3, 8])
      expect(search(state, 'sale.order', [['partner_id', '!=', 'Ready Mat']])).toHaveLength(18)
      expect(search(state, 'res.partner', [['child_ids', 'ilike', 'brandon']])).toEqual([15])
    })

    it("find a many2one's archived records by name (the comodel is searched with active_test=False)", () => {
      const state = fresh()
      archive(state, 'res.partner', 12)
      expect(search(state, 'sale.order', [['partner_id', '=', 'Ready Mat']])).toEqual([2, 3])
      expect(search(state, 'sale.order', [['partner_id.name', '=', 'Ready Mat']])).toEqual([2, 3])
    })

    it('refuse (19) or read as "in" (18) an inequality with a name', () => {
      const state = fresh()
      if (version === 19) {
        const error = errorOf(() => search(state, 'sale.order', [['partner_id', '>', 'Ready Mat']]))
        expect([error.exceptionName, error.message]).toEqual([
          'builtins.TypeError',
          "Inequality not supported for relational field using a string in condition ('partner_id', '>', 'Ready Mat')",
        ])
      } else {
        expect(search(state, 'sale.order', [['partner_id', '>', 'Ready Mat']])).toEqual([2, 3])
      }
    })

    it('name_search is a display_name condition: email, VAT and ref match; a negative operator ANDs', () => {
      const state = fresh()
      expect(rpc(state, 'res.partner', 'name_search', [], { name: 'brandon.freeman55', limit: 5 })).toEqual([
        [27, 'Azure Interior, Brandon Freeman'],
      ])
      expect(rpc(state, 'res.partner', 'name_search', [], { name: 'US12345677' })).toEqual([[14, 'Wood Corner']])
      expect(rpc(state, 'res.partner', 'name_search', [], { name: '', operator: 'not ilike' })).toEqual([])
    })
  })

  describe('any, not any and dotted paths: the implicit active filter of their searches', () => {
    it("res.partner.child_ids never counts archived contacts (its domain is active = True), whatever active_test", () => {
      const state = fresh()
      archive(state, 'res.partner', 36) // Lumber Inc's only contact
      const withoutContacts = [['is_company', '=', true], ['child_ids', 'not any', []]]
      expect(search(state, 'res.partner', withoutContacts)).toEqual([16])
      expect(matching(state, 'res.partner', withoutContacts, { active_test: false })).toEqual([16])
      expect(search(state, 'res.partner', [['child_ids', 'any', [['name', '=', 'Lorraine Douglas']]]])).toEqual([])
    })

    it('a one2many without a domain leaves archived lines out unless the context says active_test: false', () => {
      const state = fresh()
      archive(state, 'hr.employee', 3)
      expect(matching(state, 'hr.employee', [['child_ids.name', '=', 'Anita Oliver']])).toEqual([])
      expect(matching(state, 'hr.employee', [['child_ids', 'any', [['name', '=', 'Anita Oliver']]]])).toEqual([])
      expect(matching(state, 'hr.employee', [['child_ids.name', '=', 'Anita Oliver']], { active_test: false })).toEqual([11])
    })

    it('a many2one path searches archived records: 18 in all its nested searches, 19 on its first level only', () => {
      const state = fresh()
      archive(state, 'hr.employee', 3)
      // Employees whose manager has a report named Anita Oliver (archived): Jennie Fletcher, a colleague.
      expect(matching(state, 'hr.employee', [['parent_id.child_ids.name', '=', 'Anita Oliver']])).toEqual(version === 18 ? [10] : [])
    })
  })

  describe('x2many values', () => {
    it('leave archived records out on read unless the context says active_test: false', () => {
      const state = fresh()
      archive(state, 'hr.employee', 3)
      expect(rpc(state, 'hr.employee', 'read', [[11], ['child_ids']])).toEqual([{ id: 11, child_ids: [10] }])
      expect(rpc(state, 'hr.employee', 'read', [[11], ['child_ids']], { context: { active_test: false } })).toEqual([
        { id: 11, child_ids: [3, 10] },
      ])
      archive(state, 'res.partner', 27)
      // res.partner.child_ids: domain active = True, context active_test False.
      expect(rpc(state, 'res.partner', 'read', [[15], ['child_ids']], { context: { active_test: false } })).toEqual([
        { id: 15, child_ids: [34, 35] },
      ])
    })

    it('[6, 0, ids] and [5] on a one2many whose inverse is ondelete=cascade delete the lines left out', () => {
      const state = fresh()
      expect(rpc(state, 'sale.order', 'write', [[1], { order_line: [[6, 0, [1]]] }])).toBe(true)
      expect(search(state, 'sale.order.line', [['id', 'in', [1, 2, 3]]])).toEqual([1])
      expect(rpc(state, 'sale.order', 'write', [[1], { order_line: [[5]] }])).toBe(true)
      expect(search(state, 'sale.order.line', [['order_id', '=', 1]])).toEqual([])
    })

    it('a bare id list on an x2many is [6, 0, ids]; False is [5]', () => {
      const state = fresh()
      expect(rpc(state, 'res.partner', 'write', [[15], { child_ids: [27] }])).toBe(true)
      expect(search(state, 'res.partner', [['parent_id', '=', 15]])).toEqual([27])
      expect(rpc(state, 'res.partner', 'write', [[15], { child_ids: false }])).toBe(true)
      expect(search(state, 'res.partner', [['parent_id', '=', 15]])).toEqual([])
    })
  })

  describe('related fields', () => {
    it('create the partner of a new user, and write res.users.email through to it', () => {
      const state = fresh()
      const [uid] = rpc(state, 'res.users', 'create', [[{ name: 'New Person', login: 'new', email: 'new@example.com' }]]) as number[]
      const [user] = rpc(state, 'res.users', 'read', [[uid as number], ['partner_id', 'email']]) as { partner_id: [number, string]; email: string }[]
      expect(user?.partner_id[1]).toBe('New Person')
      expect(user?.email).toBe('new@example.com')
      rpc(state, 'res.users', 'write', [[uid as number], { email: 'other@example.com' }])
      expect(state.db.get('res.partner', user?.partner_id[0] as number)?.['email']).toBe('other@example.com')
    })
  })

  describe('display-name decoration (Db.displayNameDecoration)', () => {
    const decorated = () => {
      const state = fresh()
      state.db.displayNameDecoration = (model, _id, name) => (model === 'res.partner' ? `${name} ⟨x⟩` : name)
      return state
    }

    it('shows the decorated name wherever Odoo shows a display name', () => {
      const state = decorated()
      expect(rpc(state, 'sale.order', 'read', [[2], ['partner_id']])).toEqual([{ id: 2, partner_id: [12, 'Ready Mat ⟨x⟩'] }])
      expect(rpc(state, 'res.partner', 'read', [[27], ['display_name', 'complete_name']])).toEqual([
        { id: 27, display_name: 'Azure Interior, Brandon Freeman ⟨x⟩', complete_name: 'Azure Interior, Brandon Freeman' },
      ])
      const groups = rpc(state, 'sale.order', 'read_group', [[['partner_id', '=', 12]], ['partner_id'], ['partner_id']]) as {
        partner_id: [number, string]
      }[]
      expect(groups[0]?.partner_id).toEqual([12, 'Ready Mat ⟨x⟩'])
      const found = rpc(state, 'res.partner', 'name_search', [], { name: 'Ready Mat' }) as [number, string][]
      expect(found[0]).toEqual([12, 'Ready Mat ⟨x⟩'])
      for (const [, name] of found) expect(name).toMatch(/^Ready Mat.* ⟨x⟩$/)
    })

    it('matches a decorated record on its decorated name wherever Odoo searches a display name', () => {
      const state = decorated()
      expect(search(state, 'sale.order', [['partner_id', '=', 'Ready Mat']])).toEqual([])
      expect(search(state, 'sale.order', [['partner_id', '=', 'Ready Mat ⟨x⟩']])).toEqual([2, 3])
      expect(search(state, 'res.partner', [['display_name', 'ilike', 'brandon.freeman55']])).toEqual([])
      expect(search(state, 'res.partner', [['id', 'child_of', 'Azure Interior ⟨x⟩']])).toEqual([15, 27, 34, 35])
      expect(rpc(state, 'res.partner', 'name_search', [], { name: 'Ready Mat', operator: '=' })).toEqual([])
      // Names of models it leaves alone are searched as Odoo does.
      expect(search(state, 'product.product', [['display_name', 'ilike', 'FURN_7777']])).toEqual([10])
    })

    it('changes nothing when the decoration returns the name as it is', () => {
      const state = fresh()
      state.db.displayNameDecoration = (_model, _id, name) => name
      expect(search(state, 'res.partner', [['display_name', 'ilike', 'brandon.freeman55']])).toEqual([27])
      expect(search(state, 'sale.order', [['partner_id', '=', 'Ready Mat']])).toEqual([2, 3])
    })
  })
})
