/**
 * The eight ways around the policy an outside review found (issue 12), each reproduced as the review did it (keys
 * bound to the demo admin, so that only the gateway stands in the way), with variants, through the real Worker
 * against the simulated Odoo (18 over JSON-RPC in the `workers` project, 19 over JSON-2 in `workers-json2`).
 * The property that covers them all, with generated policies and calls, is the non-interference suite
 * (test/worker/properties/noninterference.property.test.ts).
 */
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey, sim } from '../helpers'

/** JSON-2 means the simulated Odoo 19, where res.users.groups_id is called group_ids. */
const ODOO_19 = env.ODOO_PROTOCOL === 'auto'
const GROUPS_FIELD = ODOO_19 ? 'group_ids' : 'groups_id'

async function keyWith(models: Record<string, unknown>): Promise<string> {
  return (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: { version: 1, models } })).key
}

type Answer = Awaited<ReturnType<typeof callTool>>

function refused(answer: Answer, message: RegExp): void {
  expect(answer.result?.isError, answer.text).toBe(true)
  expect(answer.text).toMatch(message)
}

function records(answer: Answer): Record<string, unknown>[] {
  expect(answer.result?.isError, answer.text).not.toBe(true)
  return (answer.result!.structuredContent as { records: Record<string, unknown>[] }).records
}

function groups(answer: Answer): Record<string, unknown>[] {
  expect(answer.result?.isError, answer.text).not.toBe(true)
  return (answer.result!.structuredContent as { groups: Record<string, unknown>[] }).groups
}

describe('finding 1: child_of / parent_of walk a hidden parent field', () => {
  it('refuses child_of and parent_of on hr.employee ids when parent_id is hidden', async () => {
    const key = await keyWith({ 'hr.employee': { operations: ['read'], fields: ['name', 'department_id'] } })
    for (const domain of [
      [['id', 'child_of', 15], ['id', '!=', 15]],
      [['id', 'parent_of', 14]],
      ['!', ['id', 'child_of', 3]],
      [['id', 'child_of', [3, 4]]],
    ]) {
      refused(await callTool(key, 'search_records', { model: 'hr.employee', domain, fields: ['name'] }), /parent field.*'parent_id' of 'hr\.employee' is not allowed|field 'parent_id'/)
    }
  })

  it('refuses child_of on res.partner ids when parent_id is hidden', async () => {
    const key = await keyWith({ 'res.partner': { operations: ['read'], fields: ['name'] } })
    refused(await callTool(key, 'search_records', { model: 'res.partner', domain: [['id', 'child_of', 15]], fields: ['name'] }), /'parent_id' of 'res\.partner' is not allowed/)
    refused(await callTool(key, 'count_records', { model: 'res.partner', domain: [['id', 'parent_of', 27]] }), /'parent_id' of 'res\.partner' is not allowed/)
  })

  it('refuses child_of through an allowed many2one whose model the key may not read, or whose parent is hidden', async () => {
    const noDepartments = await keyWith({ 'hr.employee': { operations: ['read'], fields: ['name', 'department_id'] } })
    refused(await callTool(noDepartments, 'search_records', { model: 'hr.employee', domain: [['department_id', 'child_of', 1]] }), /Model 'hr\.department' is not allowed/)
    const hiddenParent = await keyWith({
      'hr.employee': { operations: ['read'], fields: ['name', 'department_id'] },
      'hr.department': { operations: ['read'], fields: ['name'] },
    })
    refused(await callTool(hiddenParent, 'search_records', { model: 'hr.employee', domain: [['department_id', 'child_of', 4]] }), /'parent_id' of 'hr\.department' is not allowed/)
  })

  it('allows the hierarchy where the key sees every parent field, and answers as Odoo does', async () => {
    const key = await keyWith({
      'hr.employee': { operations: ['read'], fields: ['name', 'department_id', 'parent_id', 'coach_id'] },
      'hr.department': { operations: ['read'], fields: ['name', 'parent_id'] },
    })
    const reports = records(await callTool(key, 'search_records', { model: 'hr.employee', domain: [['department_id', 'child_of', 4]], fields: ['department_id'], limit: 100 }))
    expect(reports.length).toBeGreaterThan(0)
    const direct = records(await callTool(key, 'search_records', { model: 'hr.employee', domain: [['department_id', 'in', [4, 2, 3, 5, 6]]], fields: ['department_id'], limit: 100 }))
    expect(reports.map((r) => r.id).sort()).toEqual(direct.map((r) => r.id).sort())
  })
})

describe('finding 2: a text value with child_of runs a name search', () => {
  it('refuses text values on id conditions (a name search on the model itself)', async () => {
    const key = await keyWith({ 'product.product': { operations: ['read'], fields: ['name'] } })
    for (const domain of [
      [['id', 'child_of', '[FURN_0096] Customizable Desk']],
      [['id', 'parent_of', 'Desk']],
      [['id', '=', 'Customizable Desk']],
      [['id', 'in', [1, 'Desk']]],
    ]) {
      refused(await callTool(key, 'search_records', { model: 'product.product', domain, fields: ['name'] }), /name search on 'product\.product'|cannot be used on 'id'|has no parent field/)
    }
  })

  it('refuses display_name conditions and text on relational fields unless the key sees every field of the target', async () => {
    const key = await keyWith({ 'sale.order': { operations: ['read'], fields: ['name', 'partner_id'] }, 'res.partner': { operations: ['read'], fields: ['name', 'display_name'] } })
    refused(await callTool(key, 'search_records', { model: 'sale.order', domain: [['partner_id', 'ilike', 'yourcompany.com']] }), /name search on 'res\.partner'/)
    refused(await callTool(key, 'search_records', { model: 'sale.order', domain: [['partner_id.display_name', 'ilike', '@']] }), /name search on 'res\.partner'/)
    const dotted = await callTool(key, 'search_records', { model: 'sale.order', domain: [['partner_id.name', 'ilike', 'Gemini']], fields: ['name'] })
    expect(records(dotted).length).toBeGreaterThan(0)
  })
})

describe('finding 3: grouping by a many2many shows names of models the key may not read', () => {
  it('reduces one2many/many2many group keys to ids unless the related display name is allowed', async () => {
    const key = await keyWith({ 'res.users': { operations: ['read'], fields: ['name', GROUPS_FIELD, 'company_ids'] } })
    for (const field of [GROUPS_FIELD, 'company_ids']) {
      const answer = await callTool(key, 'aggregate_records', { model: 'res.users', groupby: [field] })
      const rows = groups(answer)
      expect(rows.length).toBeGreaterThan(0)
      for (const row of rows) expect(typeof row[field] === 'number' || row[field] === false, JSON.stringify(row)).toBe(true)
      expect(answer.raw).not.toMatch(/Settings|Internal User|Access Rights|YourCompany|My Company/)
    }
    const withCompanies = await keyWith({ 'res.users': { operations: ['read'], fields: ['name', 'company_ids'] }, 'res.company': { operations: ['read'], fields: ['display_name'] } })
    const named = groups(await callTool(withCompanies, 'aggregate_records', { model: 'res.users', groupby: ['company_ids'] }))
    expect(named.some((row) => Array.isArray(row.company_ids))).toBe(true)
  })

  it('refuses grouping by a one2many', async () => {
    const key = await keyWith({ 'sale.order': { operations: ['read'], fields: ['name', 'order_line'] } })
    refused(await callTool(key, 'aggregate_records', { model: 'sale.order', groupby: ['order_line'] }), /Cannot group by 'order_line'/)
  })
})

describe('finding 4: display names carry hidden fields', () => {
  it('shows a related record only as its id unless display_name is allowed on its model', async () => {
    const key = await keyWith({
      'sale.order.line': { operations: ['read'], fields: ['product_id', 'order_id'] },
      'product.product': { operations: ['read'], fields: ['name'] },
    })
    const answer = await callTool(key, 'search_records', { model: 'sale.order.line', fields: ['product_id'], limit: 20 })
    for (const row of records(answer)) expect(typeof row.product_id === 'number' || row.product_id === false).toBe(true)
    expect(answer.raw).not.toMatch(/FURN_/)
    const named = await keyWith({
      'sale.order.line': { operations: ['read'], fields: ['product_id'] },
      'product.product': { operations: ['read'], fields: ['name', 'display_name'] },
    })
    const shown = records(await callTool(named, 'search_records', { model: 'sale.order.line', fields: ['product_id'], limit: 20 }))
    expect(shown.some((row) => Array.isArray(row.product_id) && String((row.product_id as unknown[])[1]).startsWith('['))).toBe(true)
  })

  it('refuses display_name as a field to return unless it is allowed', async () => {
    const key = await keyWith({ 'product.product': { operations: ['read'], fields: ['name'] } })
    refused(await callTool(key, 'search_records', { model: 'product.product', fields: ['display_name'] }), /'display_name' of model 'product\.product' is not allowed/)
  })
})

describe('finding 5: one2many links write a model the key has no rights on', () => {
  it('refuses [4, id] and every other form that rewrites order lines when the key may not write them', async () => {
    await sim.reset()
    const key = await keyWith({ 'sale.order': { operations: ['read', 'write'], fields: ['name', 'order_line', 'partner_id'] } })
    for (const value of [[[4, 48]], [48], [[6, 0, [48]]], [[3, 48]], [[5]], false, [[true, 48, { price_unit: 1 }]], [[false, 0, { name: 'x' }]]]) {
      refused(await callTool(key, 'update_records', { model: 'sale.order', ids: [1], values: { order_line: value } }), /sale\.order\.line/)
    }
  })

  it('refuses re-parenting a contact through child_ids when parent_id is hidden', async () => {
    await sim.reset()
    const key = await keyWith({ 'res.partner': { operations: ['read', 'write'], fields: ['name', 'child_ids'] } })
    for (const value of [[[4, 42]], [42], [[6, 0, [42]]]]) {
      refused(await callTool(key, 'update_records', { model: 'res.partner', ids: [15], values: { child_ids: value } }), /'parent_id' of model 'res\.partner' is not allowed/)
    }
    const check = await keyWith({ 'res.partner': { operations: ['read'], fields: ['parent_id'] } })
    const partner = records(await callTool(check, 'read_records', { model: 'res.partner', ids: [42], fields: ['parent_id'] }))[0]!
    expect(partner.parent_id).not.toBe(15)
  })

  it('refuses commands it does not understand', async () => {
    const key = await keyWith({ 'res.partner': { operations: ['read', 'write'], fields: '*' } })
    for (const value of [[['4', 42]], [[7, 1]], [[4, 42], 43], [{ id: 42 }], 'x', [[0.5, 1]]]) {
      const answer = await callTool(key, 'update_records', { model: 'res.partner', ids: [15], values: { child_ids: value } })
      expect(answer.result?.isError, JSON.stringify(value)).toBe(true)
    }
  })
})

describe('finding 6: many2many commands reach access-control models', () => {
  it('keeps "*" away from fields pointing to sensitive models, so group membership cannot be written', async () => {
    await sim.reset()
    const key = await keyWith({ 'res.users': { operations: ['read', 'write'], fields: '*' } })
    for (const value of [[[4, 3]], [3], [[6, 0, [1, 3]]], [[3, 1]], [[5]]]) {
      refused(await callTool(key, 'update_records', { model: 'res.users', ids: [8], values: { [GROUPS_FIELD]: value } }), new RegExp(`'${GROUPS_FIELD}' of model 'res\\.users' is not allowed`))
    }
    refused(await callTool(key, 'search_records', { model: 'res.users', fields: [GROUPS_FIELD] }), /is not allowed/)
  })

  it('needs the related model in the policy even when the field is named', async () => {
    const key = await keyWith({ 'res.users': { operations: ['read', 'write'], fields: ['name', GROUPS_FIELD] } })
    refused(await callTool(key, 'update_records', { model: 'res.users', ids: [8], values: { [GROUPS_FIELD]: [[4, 3]] } }), /Model 'res\.groups' is not allowed/)
  })
})

describe('finding 7: active_test is an oracle on a hidden active field', () => {
  it('refuses active_test: false unless active is visible, and honours it when it is', async () => {
    const hidden = await keyWith({ 'res.partner': { operations: ['read'], fields: ['name'] } })
    refused(await callTool(hidden, 'count_records', { model: 'res.partner', context: { active_test: false } }), /'active' of 'res\.partner' is not allowed/)
    const visible = await keyWith({ 'res.partner': { operations: ['read'], fields: ['name', 'active'] } })
    const all = await callTool(visible, 'count_records', { model: 'res.partner', context: { active_test: false } })
    const active = await callTool(visible, 'count_records', { model: 'res.partner' })
    expect((all.result!.structuredContent as { count: number }).count).toBeGreaterThan((active.result!.structuredContent as { count: number }).count)
  })

  it('also refuses it when the archived records would show through a related model', async () => {
    const key = await keyWith({ 'res.partner': { operations: ['read'], fields: ['name', 'active', 'user_ids'] } })
    refused(await callTool(key, 'search_records', { model: 'res.partner', fields: ['user_ids'], context: { active_test: false } }), /archived records of 'res\.users'/)
    refused(await callTool(key, 'count_records', { model: 'res.partner', domain: [['user_ids', '!=', false]], context: { active_test: false } }), /archived records of 'res\.users'/)
  })
})

describe('finding 8: ordering ranks by hidden values', () => {
  it('sorts by a many2one\'s id when the related model sorts by fields the key may not see', async () => {
    const key = await keyWith({ 'sale.order': { operations: ['read'], fields: ['name', 'user_id'] } })
    await sim.clearCalls()
    const rows = records(await callTool(key, 'search_records', { model: 'sale.order', fields: ['user_id'], order: 'user_id', limit: 100 }))
    const sent = (await sim.calls()).filter((call) => call.method === 'search_read' && call.model === 'sale.order').at(-1)!
    expect(sent.kwargs?.order).toBe('user_id.id asc, id')
    const ids = rows.map((row) => (row.user_id === false ? Infinity : Number(row.user_id)))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it('keeps Odoo\'s many2one order when the related model sorts by visible fields', async () => {
    const key = await keyWith({ 'sale.order': { operations: ['read'], fields: ['name', 'user_id'] }, 'res.users': { operations: ['read'], fields: ['name', 'login'] } })
    await sim.clearCalls()
    records(await callTool(key, 'search_records', { model: 'sale.order', fields: ['user_id'], order: 'user_id desc' }))
    const sent = (await sim.calls()).filter((call) => call.method === 'search_read' && call.model === 'sale.order').at(-1)!
    expect(sent.kwargs?.order).toBe('user_id desc, id')
  })

  it('leaves hidden fields out of the model\'s default order', async () => {
    const key = await keyWith({ 'product.product': { operations: ['read'], fields: ['name'] } })
    await sim.clearCalls()
    const rows = records(await callTool(key, 'search_records', { model: 'product.product', fields: ['name'], limit: 100 }))
    const sent = (await sim.calls()).filter((call) => call.method === 'search_read' && call.model === 'product.product').at(-1)!
    expect(String(sent.kwargs?.order)).not.toMatch(/default_code/)
    const names = rows.map((row) => String(row.name))
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b, 'en-US')))
  })

  it('orders groups by a many2one\'s id when its names are hidden', async () => {
    const key = await keyWith({ 'sale.order': { operations: ['read'], fields: ['name', 'partner_id', 'amount_total'] } })
    const rows = groups(await callTool(key, 'aggregate_records', { model: 'sale.order', groupby: ['partner_id'], aggregates: ['amount_total:sum'] }))
    const ids = rows.map((row) => Number(row.partner_id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it('sorts one2many / many2many values by id, not by the related model\'s order', async () => {
    const key = await keyWith({ 'res.partner': { operations: ['read'], fields: ['name', 'child_ids'] } })
    const rows = records(await callTool(key, 'search_records', { model: 'res.partner', fields: ['child_ids'], limit: 100 }))
    expect(rows.some((row) => (row.child_ids as number[]).length > 1)).toBe(true)
    for (const row of rows) {
      const children = row.child_ids as number[]
      expect(children).toEqual([...children].sort((a, b) => a - b))
    }
  })
})
