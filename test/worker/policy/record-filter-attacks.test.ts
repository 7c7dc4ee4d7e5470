/**
 * An attacker's review of record filters, masks and company pinning (policy version 2), kept as tests. Each attack
 * runs the gateway's real code (tool schema, runTool, guard, Odoo client, output filters: test/noninterference/
 * gateway.ts) against two simulated databases that differ only in what the property says is hidden, and checks
 * that both answer byte for byte alike (errors included). The properties (src/guard/record-scope.ts,
 * src/policy/masks.ts):
 *
 * - P1 "does not exist": a record its model's filter leaves out is, to the key, a record that does not exist; no
 *   answer depends on its values, its existence or how many there are, and no call changes it;
 * - P2 "mask only": a masked field's clear value influences no answer except through its mask;
 * - P3 "pinned": the agent cannot widen the companies a pinned key runs in.
 *
 * Attacks that worked when this file was written are marked "(was a leak)"; each has its fix in src/guard/.
 */
import { describe, expect, it } from 'vitest'
import { parsePolicy } from '../../../src/policy/schema'
import { keyCaller, serve } from '../../noninterference/gateway'
import { canonicalHashes } from '../../noninterference/world'
import type { Db } from '../../odoo-sim/db'
import { createState, type SimState } from '../../odoo-sim/handler'
import type { StoredRecord, StoredValue } from '../../odoo-sim/types'

type Args = Record<string, unknown>

const FILTERED = {
  version: 2,
  companies: [1],
  models: {
    // Confirmed orders only; companies only among contacts; the pinned company; the first ten employees.
    'sale.order': { operations: ['read', 'create', 'write', 'unlink'], fields: '*', filter: [['state', '=', 'sale']] },
    'sale.order.line': { operations: ['read', 'create', 'write'], fields: '*' },
    'res.partner': { operations: ['read', 'create', 'write', 'unlink'], fields: '*', filter: [['is_company', '=', true]] },
    'res.users': { operations: ['read'], fields: ['name', 'login', 'partner_id', 'company_id', 'company_ids', 'active'] },
    'res.company': { operations: ['read'], fields: '*', filter: [['id', 'in', '$company_ids']] },
    'res.country': { operations: ['read'], fields: '*' },
    'product.product': { operations: ['read'], fields: '*' },
    'hr.employee': { operations: ['read', 'write'], fields: ['name', 'parent_id', 'child_ids', 'coach_id', 'display_name', 'active'], filter: [['id', '<=', 10]] },
  },
}

const MASKED = {
  version: 2,
  models: {
    'res.partner': { operations: ['read', 'create', 'write'], fields: '*', mask: { email: 'partial', phone: 'last4', ref: 'hash', vat: 'redact' } },
    'res.users': { operations: ['read'], fields: '*' },
    'res.country': { operations: ['read'], fields: '*', mask: { name: 'partial' } },
    'sale.order': { operations: ['read'], fields: ['name', 'partner_id', 'amount_total', 'display_name'] },
  },
}

let servers = 0

/**
 * Two databases: `change` gets both (the first as the demo, the second to change) and makes them differ only in
 * what the property hides. A key with `policy` on each.
 */
function worlds(policy: unknown, change: (first: Db, second: Db) => void, version: 18 | 19 = 18) {
  const first = createState({ version })
  const second = createState({ version })
  change(first.db, second.db)
  const parsed = parsePolicy(policy)
  if (!parsed.ok) throw new Error(parsed.errors.join('; '))
  const n = ++servers
  const callers = [first, second].map((state, i) => keyCaller(serve(`attack${n}-${i}`, state), version, parsed.policy))
  return {
    first,
    second,
    /** Runs the call on both databases; fails unless the answers are the same bytes (hashes by their equalities). */
    async same(tool: string, args: Args): Promise<{ text: string; isError: boolean; content: Record<string, unknown> }> {
      const answers: string[] = []
      for (const caller of callers) answers.push(canonicalHashes(JSON.stringify(await caller.call(tool, args))))
      expect(answers[1], `${tool} ${JSON.stringify(args)}`).toBe(answers[0])
      const result = JSON.parse(answers[0]!) as { content: { text: string }[]; isError?: boolean; structuredContent?: Record<string, unknown> }
      return { text: result.content[0]!.text, isError: result.isError === true, content: result.structuredContent ?? {} }
    },
  }
}

/** Clones of `record` that only the first database holds (the second only used their ids: later ids stay equal). */
function ghost(first: Db, second: Db, model: string, record: StoredRecord, values: Partial<StoredRecord> = {}): number {
  const id = first.nextId(model)
  expect(second.nextId(model)).toBe(id)
  first.insert(model, { ...structuredClone(record), ...values, id })
  return id
}

const records = (db: Db, model: string) => [...db.table(model).values()]

// ---------------------------------------------------------------------------------------------------------------
// P1: the existence and number of records a filter leaves out
// ---------------------------------------------------------------------------------------------------------------

describe('P1: a record a filter leaves out does not exist (existence and number)', () => {
  // A contact person (left out: is_company is false) of a visible company, in the first database only; and an
  // employee left out (id > 10) reporting to a visible one, archived.
  let company = 0
  let person = 0
  let manager = 0
  let employee = 0
  const world = worlds(FILTERED, (first, second) => {
    const parent = records(first, 'res.partner').find((r) => r.is_company === true && r.id !== 1)!
    company = parent.id
    const template = records(first, 'res.partner').find((r) => r.is_company === false && r.active !== false)!
    person = ghost(first, second, 'res.partner', template, { parent_id: company, name: 'Ghost Person', email: 'ghost@example.com' })
    manager = records(first, 'hr.employee').find((r) => r.id <= 10)!.id
    const emp = records(first, 'hr.employee').find((r) => r.id > 10)!
    employee = ghost(first, second, 'hr.employee', emp, { parent_id: manager, coach_id: manager, name: 'Ghost Employee', active: false })
  })

  it('search, read, count: not listed, not counted, not named in a one2many (was a leak: x2many values listed them)', async () => {
    const found = await world.same('search_records', { model: 'res.partner', limit: 500, context: { active_test: false } })
    expect(found.text).not.toContain('Ghost')
    const read = await world.same('read_records', { model: 'res.partner', ids: [company], fields: ['child_ids'] })
    expect((read.content.records as { child_ids: number[] }[])[0]!.child_ids).not.toContain(person)
    await world.same('read_records', { model: 'hr.employee', ids: [manager], fields: ['child_ids'], context: { active_test: false } })
    await world.same('search_records', { model: 'hr.employee', fields: ['child_ids'], limit: 100, context: { active_test: false } })
    await world.same('count_records', { model: 'res.partner', context: { active_test: false } })
    await world.same('count_records', { model: 'hr.employee', domain: [['id', '>', 0]], context: { active_test: false } })
  })

  it('reading its id answers as for an id that never existed', async () => {
    const hidden = await world.same('read_records', { model: 'res.partner', ids: [person, company] })
    expect(hidden.content.missing).toEqual([person])
    const absent = await world.same('read_records', { model: 'res.partner', ids: [999_999, company] })
    expect(JSON.stringify(hidden.content).replace(String(person), 'N')).toBe(JSON.stringify(absent.content).replace('999999', 'N'))
  })

  it.each<[string, string, Args]>([
    ['id =', 'search_records', { model: 'res.partner', domain: [['id', '=', -1]] }],
    ['id in', 'count_records', { model: 'res.partner', domain: [['id', 'in', [-1, 1, 2, 3]]] }],
    ['id > max', 'count_records', { model: 'res.partner', domain: [['id', '>', 60]], context: { active_test: false } }],
    ['! id in', 'count_records', { model: 'res.partner', domain: ['!', ['id', 'in', [-1]]], context: { active_test: false } }],
    ['a many2one = its id', 'count_records', { model: 'hr.employee', domain: [['parent_id', '=', -1]] }],
    ['one2many any', 'search_records', { model: 'res.partner', domain: [['child_ids', 'any', [['name', 'ilike', 'Ghost']]]] }],
    ['one2many any on its id', 'count_records', { model: 'res.partner', domain: [['child_ids', 'any', [['id', '=', -1]]]] }],
    ['one2many not any', 'count_records', { model: 'res.partner', domain: [['child_ids', 'not any', [['email', '=', 'ghost@example.com']]]] }],
    ['! around any', 'count_records', { model: 'res.partner', domain: ['!', ['child_ids', 'any', [['active', '=', true]]]] }],
    ['a dotted path through a one2many', 'count_records', { model: 'res.partner', domain: [['child_ids.name', '=', 'Ghost Person']] }],
    ['a dotted path, negative operator', 'count_records', { model: 'res.partner', domain: [['child_ids.name', 'not ilike', 'Ghost']] }],
    ['=like on a dotted path', 'count_records', { model: 'res.partner', domain: [['child_ids.email', '=like', 'ghost%']] }],
    ['one2many compared with false', 'count_records', { model: 'res.partner', domain: [['child_ids', '=', false]] }],
    ['one2many compared with ids', 'count_records', { model: 'res.partner', domain: [['child_ids', 'in', [-1]]] }],
    ['child_of its id', 'count_records', { model: 'res.partner', domain: [['id', 'child_of', -1]] }],
    ['parent_of through a many2one', 'count_records', { model: 'hr.employee', domain: [['parent_id', 'parent_of', -1]] }],
    ['child_ids of employees, archived', 'count_records', { model: 'hr.employee', domain: [['child_ids', 'any', [['active', '=', false]]]], context: { active_test: false } }],
    ['a name search on its name', 'count_records', { model: 'res.partner', domain: [['child_ids', 'ilike', 'Ghost']] }],
    ['display_name of the filtered model', 'count_records', { model: 'res.partner', domain: [['display_name', 'ilike', 'Ghost']] }],
    ['a name search on the parent of employees', 'count_records', { model: 'hr.employee', domain: [['parent_id', 'ilike', 'Ghost']] }],
    ['groupby a many2one into the filtered model', 'aggregate_records', { model: 'hr.employee', groupby: ['parent_id'], context: { active_test: false } }],
    ['an aggregate of ids', 'aggregate_records', { model: 'res.partner', groupby: ['is_company'], aggregates: ['id:max', 'id:count_distinct'], context: { active_test: false } }],
    ['the default order', 'search_records', { model: 'res.partner', fields: ['name'], limit: 500 }],
    ['an order by a many2one', 'search_records', { model: 'hr.employee', fields: ['parent_id'], order: 'parent_id desc', limit: 100 }],
    ['count_total and paging', 'search_records', { model: 'res.partner', fields: ['name'], limit: 3, offset: 2, count_total: true }],
    ['describe_model', 'describe_model', { model: 'res.partner' }],
    ['list_models', 'list_models', { search: 'partner' }],
  ])('a domain, order or grouping cannot tell it exists: %s', async (_name, tool, args) => {
    const ids = JSON.stringify(args).replaceAll('-1', String(args.model === 'hr.employee' ? employee : person))
    await world.same(tool, JSON.parse(ids) as Args)
  })

  it.each<[string, string, (ids: { person: number; company: number; employee: number; manager: number }) => Args]>([
    ['update it', 'update_records', ({ person }) => ({ model: 'res.partner', ids: [person], values: { name: 'x' } })],
    ['delete it', 'delete_records', ({ person }) => ({ model: 'res.partner', ids: [person] })],
    ['write a many2one naming it', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { parent_id: person } })],
    ['create with a many2one naming it', 'create_record', ({ person }) => ({ model: 'sale.order', values: { partner_id: person } })],
    ['link it: [4, id]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[4, person]] } })],
    ['unlink it: [3, id]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[3, person]] } })],
    ['delete it: [2, id]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[2, person]] } })],
    ['update it: [1, id, values]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[1, person, { name: 'x' }]] } })],
    ['update it: [true, id, values]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[true, person, { name: 'x' }]] } })],
    ['set: [6, 0, ids]', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[6, 0, [person]]] } })],
    ['clear: [5]', 'update_records', ({ company }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [[5]] } })],
    ['a bare id list', 'update_records', ({ company, person }) => ({ model: 'res.partner', ids: [company], values: { child_ids: [person] } })],
    ['false', 'update_records', ({ company }) => ({ model: 'res.partner', ids: [company], values: { child_ids: false } })],
    ['an employee\'s manager', 'update_records', ({ manager, employee }) => ({ model: 'hr.employee', ids: [manager], values: { coach_id: employee } })],
    ['an employee\'s subordinates', 'update_records', ({ manager, employee }) => ({ model: 'hr.employee', ids: [manager], values: { child_ids: [[4, employee]] } })],
  ])('a write cannot tell it exists, nor change it: %s', async (_name, tool, build) => {
    const answer = await world.same(tool, build({ person, company, employee, manager }))
    expect(answer.isError).toBe(true)
    expect(world.first.db.get('res.partner', person)?.name).toBe('Ghost Person')
    expect(world.first.db.get('hr.employee', employee)?.parent_id).toBe(manager)
  })

  it('a write naming it is refused with the words used for an id that never existed', async () => {
    const hidden = await world.same('update_records', { model: 'res.partner', ids: [company], values: { child_ids: [[4, person]] } })
    const absent = await world.same('update_records', { model: 'res.partner', ids: [company], values: { child_ids: [[4, 999_999]] } })
    expect(hidden.text.replace(String(person), 'N')).toBe(absent.text.replace('999999', 'N'))
    const deleted = await world.same('delete_records', { model: 'res.partner', ids: [person] })
    const never = await world.same('delete_records', { model: 'res.partner', ids: [999_999] })
    expect(deleted.text.replace(String(person), 'N')).toBe(never.text.replace('999999', 'N'))
  })
})

describe('P1: groups and x2many values into a filtered model', () => {
  // Users' companies: res.company is filtered to the pinned company; the second database has a user in another one.
  const world = worlds(FILTERED, (first, second) => {
    const company = records(first, 'res.company')[0]!
    const other = ghost(first, second, 'res.company', company, { name: 'Ghost Company' })
    const user = records(first, 'res.users').find((r) => r.id !== 2)!
    first.update('res.users', user.id, { company_ids: [...((user.company_ids as number[]) ?? []), other] })
  })

  it('a many2many value lists only records inside the filter (was a leak)', async () => {
    const found = await world.same('search_records', { model: 'res.users', fields: ['company_ids'], limit: 100, context: { active_test: false } })
    expect(found.isError).toBe(false)
  })

  it('grouping by a many2many into a filtered model is refused: each group is one related record (was a leak)', async () => {
    const answer = await world.same('aggregate_records', { model: 'res.users', groupby: ['company_ids'], context: { active_test: false } })
    expect(answer.text).toMatch(/Cannot group by 'company_ids': it lists records of 'res.company'.*record filter/)
  })

  it('counting by a many2many condition cannot tell', async () => {
    await world.same('count_records', { model: 'res.users', domain: [['company_ids', 'any', [['name', 'ilike', 'Ghost']]]], context: { active_test: false } })
    await world.same('count_records', { model: 'res.users', domain: [['company_ids.name', '=like', 'Ghost%']], context: { active_test: false } })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// P1: the values of records a filter leaves out
// ---------------------------------------------------------------------------------------------------------------

describe('P1: no answer depends on the values of a record a filter leaves out', () => {
  // Orders that are not confirmed and contact persons: in the second database every value a key could ask about
  // is different (their filter sides stay).
  let outsideOrder = 0
  let person = 0
  let personName = ''
  const world = worlds(FILTERED, (first, second) => {
    const order = records(first, 'sale.order').find((r) => r.state !== 'sale')!
    outsideOrder = order.id
    second.update('sale.order', order.id, { client_order_ref: 'CHANGED', note: 'changed', user_id: false, date_order: '2020-01-01 00:00:00', state: order.state === 'draft' ? 'cancel' : 'draft' })
    const persons = records(first, 'sale.order').map((r) => r.partner_id as number).filter((id) => first.get('res.partner', id)?.is_company === false)
    person = persons[0]!
    personName = first.get('res.partner', person)!.name as string
    for (const id of new Set(persons)) {
      second.update('res.partner', id, { name: `Changed ${id}`, email: `changed${id}@example.com`, phone: '000', vat: 'X', ref: 'R', active: id % 2 === 0, function: 'CEO', city: 'Elsewhere' })
    }
  })

  it.each<[string, string, Args]>([
    ['its many2one value (bare id, no name)', 'search_records', { model: 'sale.order', fields: ['partner_id', 'partner_invoice_id'], limit: 100 }],
    ['a dotted path to its name', 'search_records', { model: 'sale.order', domain: [['partner_id.name', 'ilike', 'Changed']], fields: ['name'] }],
    ['a dotted path, the clear name', 'count_records', { model: 'sale.order', domain: [['partner_id.name', '=', 'PERSON']] }],
    ['a dotted path, negated', 'count_records', { model: 'sale.order', domain: ['!', ['partner_id.name', '=', 'PERSON']] }],
    ['a dotted path, negative operator', 'count_records', { model: 'sale.order', domain: [['partner_id.email', 'not ilike', 'changed']] }],
    ['a two-hop path', 'count_records', { model: 'sale.order.line', domain: [['order_id.partner_id.city', '=', 'Elsewhere']] }],
    ['any', 'count_records', { model: 'sale.order', domain: [['partner_id', 'any', [['function', '=', 'CEO']]]] }],
    ['not any', 'count_records', { model: 'sale.order', domain: [['partner_id', 'not any', [['phone', '=', '000']]]] }],
    ['! around any', 'count_records', { model: 'sale.order', domain: ['!', ['partner_id', 'any', [['vat', '=', 'X']]]] }],
    ['any on its archived state', 'count_records', { model: 'sale.order', domain: [['partner_id', 'any', [['active', '=', false]]]], context: { active_test: false } }],
    ['a name search on the many2one', 'count_records', { model: 'sale.order', domain: [['partner_id', 'ilike', 'PERSON']] }],
    ['a name search through display_name', 'count_records', { model: 'sale.order', domain: [['partner_id.display_name', 'ilike', 'Changed']] }],
    ['=ilike on the many2one', 'count_records', { model: 'sale.order', domain: [['partner_id', '=ilike', 'PERSON']] }],
    ['child_of with its name', 'count_records', { model: 'sale.order', domain: [['partner_id', 'child_of', 'PERSON']] }],
    ['groupby the many2one', 'aggregate_records', { model: 'sale.order', groupby: ['partner_id'], aggregates: ['amount_total:sum'] }],
    ['order by the many2one', 'search_records', { model: 'sale.order', fields: ['partner_id'], order: 'partner_id asc', limit: 100 }],
    ['groupby and order of lines by their order', 'aggregate_records', { model: 'sale.order.line', groupby: ['order_id'], aggregates: ['price_subtotal:sum'] }],
    ['lines of a left-out order: its related fields', 'read_records', { model: 'sale.order.line', ids: [1, 2, 3, 4, 5], fields: ['state', 'order_partner_id'] }],
    ['lines: a condition on a related field into the filtered model', 'count_records', { model: 'sale.order.line', domain: [['state', '=', 'draft']] }],
    ['lines: their default fields', 'search_records', { model: 'sale.order.line', limit: 200 }],
    ['the order itself by id', 'read_records', { model: 'sale.order', ids: [-1] }],
    ['the order: its fields in a condition', 'count_records', { model: 'sale.order', domain: [['client_order_ref', '=', 'CHANGED']], context: { active_test: false } }],
    ['the order: an aggregate over all', 'aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['date_order:min', 'user_id:count_distinct'] }],
  ])('%s', async (_name, tool, args) => {
    const text = JSON.stringify(args).replaceAll('PERSON', personName).replaceAll('-1', String(outsideOrder))
    const answer = await world.same(tool, JSON.parse(text) as Args)
    expect(answer.text).not.toContain('Changed')
    expect(answer.text).not.toContain(personName === '' ? '\u0000' : `"${personName}"`)
  })

  it('a name search on a model whose records point into a filtered one is refused (was a leak: sale.order matches its customer\'s name)', async () => {
    // Orders unfiltered, contacts filtered. Odoo's sale.order _rec_names_search is ['name', 'partner_id.name']: a
    // display_name search on orders read the names of contacts the filter leaves out.
    const policy = {
      version: 2,
      models: {
        'sale.order': { operations: ['read'], fields: '*' },
        'sale.order.line': { operations: ['read'], fields: '*' },
        'res.partner': { operations: ['read'], fields: '*', filter: [['is_company', '=', true]] },
      },
    }
    const names = worlds(policy, (first, second) => {
      for (const order of records(first, 'sale.order')) {
        const partner = first.get('res.partner', order.partner_id as number)!
        if (partner.is_company === false) second.update('res.partner', partner.id, { name: `Changed ${partner.id}` })
      }
    })
    const answer = await names.same('count_records', { model: 'sale.order', domain: [['display_name', 'ilike', 'Changed']] })
    expect(answer.text).toMatch(/runs Odoo's name search on 'sale.order', which may match values of 'res.partner' records .*record filter/)
    const lines = await names.same('count_records', { model: 'sale.order.line', domain: [['order_id', 'ilike', 'Changed']] })
    expect(lines.text).toMatch(/name search on 'sale.order'/)
    expect((await names.same('count_records', { model: 'sale.order', domain: [['id', '=', 'Changed']] })).isError).toBe(true)
    expect((await names.same('count_records', { model: 'sale.order.line', domain: [['order_id.display_name', '=like', 'Changed%']] })).isError).toBe(true)
    // What stays allowed: the order's own name, and ids.
    expect((await names.same('count_records', { model: 'sale.order', domain: [['name', 'ilike', 'S0']] })).isError).toBe(false)
    expect((await names.same('count_records', { model: 'sale.order.line', domain: [['order_id', 'in', [1, 2]]] })).isError).toBe(false)
  })
})

describe('P1: no call changes a record a filter leaves out', () => {
  it('a related field writing through to a left-out record is refused (was a leak: res.users.email wrote the user\'s contact)', async () => {
    // res.users.email is related to partner_id.email (Odoo writes the contact); the admin's contact is a person,
    // which the filter on res.partner leaves out.
    const policy = {
      version: 2,
      models: {
        'res.users': { operations: ['read', 'write'], fields: ['name', 'email', 'partner_id'] },
        'res.partner': { operations: ['read', 'write'], fields: '*', filter: [['is_company', '=', true]] },
      },
    }
    const world = worlds(policy, () => {})
    const contact = world.first.db.get('res.users', 2)!.partner_id as number
    expect(world.first.db.get('res.partner', contact)!.is_company).toBe(false)
    const before = world.first.db.get('res.partner', contact)!.email
    const answer = await world.same('update_records', { model: 'res.users', ids: [2], values: { email: 'attacker@example.com' } })
    expect(answer.text).toMatch(/Field 'email' of model 'res.users' is not allowed|mirrors 'partner_id.email', which writes a record of 'res.partner'/)
    expect(world.first.db.get('res.partner', contact)!.email).toBe(before)
    expect(world.second.db.get('res.partner', contact)!.email).toBe(before)
    // Its other fields stay writable.
    expect((await world.same('update_records', { model: 'res.users', ids: [2], values: { name: 'Mitchell Admin' } })).isError).toBe(false)
  })

  it('a related field listed by name does not show a left-out record\'s value (was a leak: res.users.email read the contact)', async () => {
    const policy = {
      version: 2,
      models: {
        'res.users': { operations: ['read'], fields: ['name', 'email', 'partner_id'] },
        'res.partner': { operations: ['read'], fields: '*', filter: [['is_company', '=', true]] },
        'sale.order.line': { operations: ['read'], fields: ['name', 'state', 'order_partner_id'] },
        'sale.order': { operations: ['read'], fields: '*', filter: [['state', '=', 'sale']] },
      },
    }
    const world = worlds(policy, (first, second) => {
      for (const user of records(first, 'res.users')) second.update('res.partner', user.partner_id as number, { email: `other${user.id}@example.com` })
      for (const order of records(first, 'sale.order')) if (order.state !== 'sale') second.update('sale.order', order.id, { state: order.state === 'draft' ? 'cancel' : 'draft', partner_id: 1 })
    })
    expect((await world.same('read_records', { model: 'res.users', ids: [2], fields: ['email'] })).text).toMatch(/Field 'email' of model 'res.users' is not allowed/)
    expect((await world.same('search_records', { model: 'res.users', limit: 50 })).text).not.toContain('@')
    expect((await world.same('search_records', { model: 'sale.order.line', fields: ['state'] })).isError).toBe(true)
    await world.same('search_records', { model: 'sale.order.line', limit: 200 })
    await world.same('count_records', { model: 'sale.order.line', domain: [['state', '=', 'draft']] })
  })

  it('a write may not move a record across the filter, nor create one outside it', async () => {
    const world = worlds(FILTERED, () => {})
    const company = records(world.first.db, 'res.partner').find((r) => r.is_company === true && r.id !== 1)!.id
    expect((await world.same('update_records', { model: 'res.partner', ids: [company], values: { is_company: false } })).text).toMatch(/decides which records/)
    expect((await world.same('create_record', { model: 'res.partner', values: { name: 'x', is_company: false } })).text).toMatch(/outside this API key's record filter/)
    expect((await world.same('update_records', { model: 'res.partner', ids: [company], values: { child_ids: [[0, 0, { name: 'x' }]] } })).isError).toBe(true)
    expect(world.first.db.get('res.partner', company)!.is_company).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Known limit: values Odoo computes across records
// ---------------------------------------------------------------------------------------------------------------

describe('P1, not kept (found, not fixed): a computed field reading records a filter leaves out', () => {
  // res.partner.sale_order_count counts the contact's orders, filtered out or not: the gateway does not know what a
  // computed field reads (fields_get's `depends` is not asked for). Kept as an expected failure, to be turned into
  // a plain test when the guard learns computed fields' dependencies.
  it.fails('res.partner.sale_order_count counts orders the filter leaves out', async () => {
    const policy = { ...FILTERED, models: { ...FILTERED.models, 'res.partner': { operations: ['read'], fields: '*' } } }
    let customer = 0
    const world = worlds(policy, (first, second) => {
      const order = records(first, 'sale.order').find((r) => r.state === 'draft')!
      customer = order.partner_id as number
      ghost(first, second, 'sale.order', order)
    })
    await world.same('read_records', { model: 'res.partner', ids: [customer], fields: ['sale_order_count'] })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// P2: masks
// ---------------------------------------------------------------------------------------------------------------

describe('P2: a masked value shows nothing but its mask', () => {
  /** Another value the mask shows alike: hidden characters replaced (e-mail local part after its first character). */
  const sameMask = (value: StoredValue | undefined, keepStart: number, keepEnd: number): StoredValue | undefined => {
    if (typeof value !== 'string' || value.length < keepStart + keepEnd + 1) return value
    const chars = [...value]
    for (let i = keepStart; i < chars.length - keepEnd; i++) if (chars[i] !== '@') chars[i] = chars[i] === 'q' ? 'z' : 'q'
    return chars.join('')
  }
  let sharedRef = ''
  const world = worlds(MASKED, (first, second) => {
    const partners = records(first, 'res.partner')
    // Two contacts share a reference in both databases (a hash shows equality), each one a different one.
    sharedRef = 'REF-SHARED'
    first.update('res.partner', partners[3]!.id, { ref: sharedRef })
    first.update('res.partner', partners[4]!.id, { ref: sharedRef })
    for (const partner of records(first, 'res.partner')) {
      const email = partner.email
      const at = typeof email === 'string' ? email.lastIndexOf('@') : -1
      second.update('res.partner', partner.id, {
        // partial keeps the first character of the local part and the domain; last4 the last four characters.
        email: typeof email === 'string' && at > 1 ? `${sameMask(email.slice(0, at), 1, 0) as string}${email.slice(at)}` : email!,
        phone: typeof partner.phone === 'string' && partner.phone.length >= 8 ? sameMask(partner.phone, 0, 4)! : partner.phone!,
        ref: typeof partner.ref === 'string' && partner.ref !== '' ? `${partner.ref}~other` : partner.ref!,
        vat: partner.vat ? 'ANYTHING' : 'SET NOW',
      })
    }
    // Country names: partial keeps the first and last characters; the middle is rewritten so that the order by
    // name would change.
    for (const country of records(first, 'res.country')) {
      second.update('res.country', country.id, { name: sameMask(country.name, 2, 2) as string })
    }
  })

  it.each<[string, string, Args]>([
    ['search, default fields', 'search_records', { model: 'res.partner', limit: 200 }],
    ['read, masked fields', 'read_records', { model: 'res.partner', ids: [1, 3, 8, 10, 11], fields: ['email', 'phone', 'ref', 'vat'] }],
    ['display_name under "*" on a model with masks (was a leak: it is composed from a masked name)', 'search_records', { model: 'res.country', limit: 300 }],
    ['display_name asked for', 'read_records', { model: 'res.country', ids: [20, 233], fields: ['display_name'] }],
    ['the default order of a model sorting by a masked field', 'search_records', { model: 'res.country', fields: ['code'], limit: 300 }],
    ['an order by the masked field', 'search_records', { model: 'res.country', order: 'name asc' }],
    ['many2one names into a model with masks', 'search_records', { model: 'res.partner', fields: ['country_id'], limit: 200 }],
    ['group keys into a model with masks', 'aggregate_records', { model: 'res.partner', groupby: ['country_id'] }],
    ['an order by a many2one into a model sorting by a masked field', 'search_records', { model: 'res.partner', fields: ['country_id'], order: 'country_id asc', limit: 200 }],
    ['a condition', 'count_records', { model: 'res.partner', domain: [['email', 'ilike', 'q']] }],
    ['is it set', 'count_records', { model: 'res.partner', domain: [['vat', '!=', false]] }],
    ['=like', 'count_records', { model: 'res.partner', domain: [['phone', '=like', '%5']] }],
    ['a dotted path', 'count_records', { model: 'sale.order', domain: [['partner_id.email', 'ilike', 'q']] }],
    ['a dotted path to a masked name', 'count_records', { model: 'res.partner', domain: [['country_id.name', 'ilike', 'q']] }],
    ['any', 'count_records', { model: 'sale.order', domain: [['partner_id', 'any', [['ref', '=', 'REF-SHARED']]]] }],
    ['! around any', 'count_records', { model: 'sale.order', domain: ['!', ['partner_id', 'any', [['vat', '=', 'ANYTHING']]]] }],
    ['a name search (matches e-mail, reference, VAT)', 'count_records', { model: 'sale.order', domain: [['partner_id', 'ilike', 'q']] }],
    ['display_name', 'count_records', { model: 'res.partner', domain: [['display_name', 'ilike', 'q']] }],
    ['a name search on countries', 'count_records', { model: 'res.partner', domain: [['country_id', 'ilike', 'Bel']] }],
    ['a related field mirroring it', 'read_records', { model: 'res.users', ids: [2], fields: ['email'] }],
    ['a related field in a condition', 'count_records', { model: 'res.users', domain: [['email', 'ilike', 'q']] }],
    ['groupby', 'aggregate_records', { model: 'res.partner', groupby: ['ref'] }],
    ['count_distinct', 'aggregate_records', { model: 'res.partner', groupby: ['is_company'], aggregates: ['email:count_distinct'] }],
    ['min', 'aggregate_records', { model: 'res.partner', groupby: ['is_company'], aggregates: ['phone:min'] }],
    ['order, second term', 'search_records', { model: 'res.partner', order: 'is_company desc, email asc' }],
    ['write it', 'update_records', { model: 'res.partner', ids: [3], values: { email: 'x@example.com' } }],
    ['create with it', 'create_record', { model: 'res.partner', values: { name: 'x', vat: 'BE0477472701' } }],
    ['describe_model', 'describe_model', { model: 'res.partner' }],
  ])('%s', async (_name, tool, args) => {
    await world.same(tool, args)
  })

  it('a hash shows which values are equal, and nothing more', async () => {
    const found = await world.same('search_records', { model: 'res.partner', fields: ['ref'], limit: 200 })
    const refs = (found.content.records as { ref: unknown }[]).map((row) => row.ref)
    expect(refs.filter((ref) => typeof ref === 'string' && ref.startsWith('h#'))).not.toHaveLength(0)
    expect(JSON.stringify(found.content)).not.toContain(sharedRef)
  })
})

// ---------------------------------------------------------------------------------------------------------------
// P3: company pinning
// ---------------------------------------------------------------------------------------------------------------

describe('P3: the agent cannot widen the companies a pinned key runs in', () => {
  const world = worlds(FILTERED, () => {})

  it.each<[string, Args]>([
    ['allowed_company_ids', { allowed_company_ids: [1, 2] }],
    ['force_company', { force_company: 2 }],
    ['company_id', { company_id: 2 }],
    ['uid', { uid: 1 }],
    ['next to an allowed key', { active_test: false, allowed_company_ids: [2] }],
  ])('refuses the context key %s', async (_name, context) => {
    const answer = await world.same('search_records', { model: 'res.partner', context })
    expect(answer.isError).toBe(true)
  })

  it('sends the pinned companies with every Odoo call of a tool, the record-filter checks included', async () => {
    const state: SimState = world.first
    const calls = state.calls.length
    const company = records(state.db, 'res.partner').find((r) => r.is_company === true)!.id
    await world.same('search_records', { model: 'res.partner', fields: ['name', 'child_ids', 'parent_id'], limit: 5 })
    await world.same('read_records', { model: 'res.partner', ids: [company, 3] })
    await world.same('update_records', { model: 'res.partner', ids: [company], values: { parent_id: 3 } })
    await world.same('count_records', { model: 'res.company', context: { active_test: false } })
    const data = state.calls.slice(calls).filter((call) => !['fields_get', 'search_read'].includes(call.method) || call.model !== 'ir.model')
    const companies = data.filter((call) => call.service !== 'common' && call.model !== 'ir.model' && call.method !== 'fields_get').map((call) => call.context?.allowed_company_ids)
    expect(companies.length).toBeGreaterThan(4)
    for (const pinned of companies) expect(pinned).toEqual([1])
  })
})

describe('P1: a write cannot move records across another model\'s filter', () => {
  it('writing a field a dotted filter reads is refused', async () => {
    const policy = {
      version: 2,
      models: {
        'sale.order': { operations: ['read'], fields: ['name', 'partner_id'], filter: [['partner_id.is_company', '=', true]] },
        'res.partner': { operations: ['read', 'write'], fields: ['name', 'is_company'] },
      },
    }
    const world = worlds(policy, () => {})
    const order = records(world.first.db, 'sale.order').find((r) => world.first.db.get('res.partner', r.partner_id as number)!.is_company === false)!
    const before = await world.same('count_records', { model: 'sale.order' })
    const answer = await world.same('update_records', { model: 'res.partner', ids: [order.partner_id as number], values: { is_company: true } })
    const after = await world.same('count_records', { model: 'sale.order' })
    expect(answer.isError).toBe(true)
    expect(after.content).toEqual(before.content)
  })
})

describe('P1: creating or deleting records another model\'s filter counts', () => {
  const policy = {
    version: 2,
    models: {
      // Orders with a line of product 1 only.
      'sale.order': { operations: ['read'], fields: ['name'], filter: [['order_line', 'any', [['product_id', '=', 1]]]] },
      'sale.order.line': { operations: ['read', 'create', 'write', 'unlink'], fields: ['name', 'order_id', 'product_id', 'product_uom_qty'] },
    },
  }

  it.each<[string, string, (order: number, line: number) => Args]>([
    ['create a line in a hidden order (held: the order is missing to the key)', 'create_record', (order) => ({ model: 'sale.order.line', values: { order_id: order, product_id: 1, name: 'x' } })],
    ['change a line\'s product (was a leak: the line\'s order came into view)', 'update_records', (_order, line) => ({ model: 'sale.order.line', ids: [line], values: { product_id: 1 } })],
    ['move a line to a hidden order (held: the order is missing to the key)', 'update_records', (order, line) => ({ model: 'sale.order.line', ids: [line], values: { order_id: order } })],
    ['delete a line (refused now: deleting a counted line can move its order across the filter)', 'delete_records', (_order, line) => ({ model: 'sale.order.line', ids: [line] })],
  ])('is refused: %s', async (_name, tool, build) => {
    const world = worlds(policy, () => {})
    const db = world.first.db
    const hidden = records(db, 'sale.order').find((order) => !records(db, 'sale.order.line').some((line) => line.order_id === order.id && line.product_id === 1))!
    const line = records(db, 'sale.order.line').find((r) => r.product_id !== 1)!
    const before = await world.same('count_records', { model: 'sale.order' })
    expect((await world.same(tool, build(hidden.id, line.id))).isError).toBe(true)
    expect((await world.same('count_records', { model: 'sale.order' })).content).toEqual(before.content)
  })
})
