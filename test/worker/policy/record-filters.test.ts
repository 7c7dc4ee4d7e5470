/**
 * Record filters (policy version 2) through the real Worker against the simulated Odoo. Each answer is compared with
 * a reference: what a full-access key of the same Odoo user sees, narrowed in the test by the filter's meaning.
 * The property (guard/record-scope.ts): a record left out by its model's filter is, to the key, a record that does
 * not exist.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey } from '../helpers'
import { FULL_ACCESS } from '../mcp/policies'

type Row = Record<string, unknown> & { id: number }

const FILTERED = {
  version: 2,
  models: {
    // Confirmed orders only; and, of the contacts, companies only.
    'sale.order': { operations: ['read', 'write', 'unlink'], fields: '*', filter: [['state', '=', 'sale']] },
    'sale.order.line': { operations: ['read'], fields: '*' },
    'res.partner': { operations: ['read', 'create', 'write'], fields: '*', filter: [['is_company', '=', true]] },
    'res.country': { operations: ['read'], fields: '*' },
    'res.users': { operations: ['read'], fields: ['name', 'login'] },
    'product.product': { operations: ['read'], fields: '*' },
  },
}

let full = ''
let filtered = ''

async function ok(key: string, tool: string, args: Record<string, unknown>) {
  const result = await callTool(key, tool, args)
  expect(result.result?.isError, result.text).toBeFalsy()
  return result.result!.structuredContent as Record<string, unknown>
}

async function refused(key: string, tool: string, args: Record<string, unknown>): Promise<string> {
  const result = await callTool(key, tool, args)
  expect(result.result?.isError, JSON.stringify(result.result?.structuredContent)).toBe(true)
  return result.text
}

const rows = (content: Record<string, unknown>) => content.records as Row[]
const idOf = (value: unknown) => (Array.isArray(value) ? (value[0] as number) : value)

/** Every record of a model as the full-access key sees it (archived ones included). */
async function everything(model: string, fields: string[]): Promise<Row[]> {
  return rows(await ok(full, 'search_records', { model, fields, limit: 500, context: { active_test: false } }))
}

beforeAll(async () => {
  full = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })).key
  filtered = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FILTERED })).key
})

describe(`record filters (${env.ODOO_PROTOCOL})`, () => {
  it('narrows searches, counts and aggregates to the records inside the filter', async () => {
    const orders = await everything('sale.order', ['state', 'partner_id', 'amount_total'])
    const inside = orders.filter((order) => order.state === 'sale')
    expect(inside.length).toBeGreaterThan(0)
    expect(inside.length).toBeLessThan(orders.length)

    const found = rows(await ok(filtered, 'search_records', { model: 'sale.order', fields: ['state'], limit: 500 }))
    expect(found.map((row) => row.id).sort((a, b) => a - b)).toEqual(inside.map((row) => row.id).sort((a, b) => a - b))
    expect(await ok(filtered, 'count_records', { model: 'sale.order', domain: [['state', '!=', 'sale']] })).toEqual({ count: 0 })
    expect(await ok(filtered, 'count_records', { model: 'sale.order' })).toEqual({ count: inside.length })

    const groups = (await ok(filtered, 'aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['amount_total:sum'] })).groups as Row[]
    expect(groups).toEqual([{ count: inside.length, state: 'sale', 'amount_total:sum': inside.reduce((sum, row) => sum + (row.amount_total as number), 0) }])
  })

  it('answers reads of ids outside the filter as missing, exactly as ids that do not exist', async () => {
    const orders = await everything('sale.order', ['state'])
    const ids = [...orders.map((row) => row.id), 999_999]
    const content = await ok(filtered, 'read_records', { model: 'sale.order', ids, fields: ['name', 'state'] })
    expect(rows(content).map((row) => row.id)).toEqual(orders.filter((row) => row.state === 'sale').map((row) => row.id))
    expect(content.missing).toEqual([...orders.filter((row) => row.state !== 'sale').map((row) => row.id), 999_999])
  })

  it('refuses to write or delete records outside the filter with the answer given for records that do not exist', async () => {
    const orders = await everything('sale.order', ['state'])
    const outside = orders.find((row) => row.state !== 'sale')!.id
    const hidden = await refused(filtered, 'update_records', { model: 'sale.order', ids: [outside], values: { note: 'x' } })
    const absent = await refused(filtered, 'update_records', { model: 'sale.order', ids: [999_999], values: { note: 'x' } })
    expect(hidden.replace(String(outside), 'N')).toBe(absent.replace('999999', 'N'))
    const deleteHidden = await refused(filtered, 'delete_records', { model: 'sale.order', ids: [outside] })
    const deleteAbsent = await refused(filtered, 'delete_records', { model: 'sale.order', ids: [999_999] })
    expect(deleteHidden.replace(String(outside), 'N')).toBe(deleteAbsent.replace('999999', 'N'))
    // Nothing was changed.
    expect(rows(await ok(full, 'read_records', { model: 'sale.order', ids: [outside], fields: ['state'] }))).toHaveLength(1)
  })

  it('refuses writing a field the filter reads', async () => {
    const inside = rows(await ok(filtered, 'search_records', { model: 'sale.order', fields: ['state'], limit: 1 }))[0]!
    expect(await refused(filtered, 'update_records', { model: 'sale.order', ids: [inside.id], values: { state: 'draft' } })).toMatch(
      /Field 'state' of model 'sale.order' decides which records this API key may reach/,
    )
  })

  it('shows the display name of a many2one only when the related record is inside its filter', async () => {
    const partners = new Map((await everything('res.partner', ['is_company', 'name'])).map((row) => [row.id, row]))
    const orders = rows(await ok(filtered, 'search_records', { model: 'sale.order', fields: ['partner_id'], limit: 500 }))
    let named = 0
    let bare = 0
    for (const order of orders) {
      const partner = partners.get(idOf(order.partner_id) as number)!
      if (partner.is_company === true) {
        expect(order.partner_id).toEqual([partner.id, expect.any(String)])
        named++
      } else {
        expect(order.partner_id).toBe(partner.id)
        bare++
      }
    }
    expect(named).toBeGreaterThan(0)
    expect(bare).toBeGreaterThan(0)

    const groups = (await ok(filtered, 'aggregate_records', { model: 'sale.order', groupby: ['partner_id'] })).groups as Row[]
    for (const group of groups) {
      const partner = partners.get(idOf(group.partner_id) as number)!
      expect(Array.isArray(group.partner_id)).toBe(partner.is_company === true)
    }
  })

  it('rewrites a dotted path into a filtered model through any: only related records inside the filter match', async () => {
    const partners = new Map((await everything('res.partner', ['is_company', 'name'])).map((row) => [row.id, row]))
    const orders = await everything('sale.order', ['state', 'partner_id'])
    const expected = orders
      .filter((order) => order.state === 'sale')
      .filter((order) => {
        const partner = partners.get(idOf(order.partner_id) as number)!
        return partner.is_company === true && /a/i.test(partner.name as string)
      })
      .map((order) => order.id)
    const found = rows(await ok(filtered, 'search_records', { model: 'sale.order', domain: [['partner_id.name', 'ilike', 'a']], fields: ['name'], limit: 500 }))
    expect(found.map((row) => row.id).sort((a, b) => a - b)).toEqual(expected.sort((a, b) => a - b))
    // The same through an explicit `any`.
    const viaAny = rows(await ok(filtered, 'search_records', { model: 'sale.order', domain: [['partner_id', 'any', [['name', 'ilike', 'a']]]], fields: ['name'], limit: 500 }))
    expect(viaAny.map((row) => row.id).sort((a, b) => a - b)).toEqual(expected)
  })

  it('refuses the conditions that would search a filtered model outside its filter', async () => {
    expect(await refused(filtered, 'search_records', { model: 'sale.order', domain: [['partner_id', 'ilike', 'Azure']] })).toMatch(/runs a name search on records of 'res.partner'.*record filter/)
    expect(await refused(filtered, 'search_records', { model: 'sale.order', domain: [['partner_id', 'child_of', 1]] })).toMatch(/walks the hierarchy of 'res.partner'/)
    expect(await refused(filtered, 'search_records', { model: 'res.partner', domain: [['child_ids', 'in', [1, 2]]] })).toMatch(/searches the records of 'res.partner'/)
    expect(await refused(filtered, 'search_records', { model: 'res.partner', domain: [['id', 'child_of', 1]] })).toMatch(/walks the hierarchy of 'res.partner'/)
  })

  it('sorts by a many2one into a filtered model by its id, never by the related records\' order', async () => {
    const found = rows(await ok(filtered, 'search_records', { model: 'sale.order', fields: ['partner_id'], order: 'partner_id desc', limit: 500 }))
    const keys = found.map((row) => [idOf(row.partner_id) as number, row.id])
    const sorted = [...keys].sort((a, b) => b[0]! - a[0]! || a[1]! - b[1]!)
    expect(keys).toEqual(sorted)
  })

  it('creates a record inside the filter, filling a field the filter pins; refuses one outside it', async () => {
    const { id } = (await ok(filtered, 'create_record', { model: 'res.partner', values: { name: 'Filter Test Company' } })) as { id: number }
    const [record] = rows(await ok(full, 'read_records', { model: 'res.partner', ids: [id], fields: ['is_company', 'name'] }))
    expect(record).toMatchObject({ is_company: true, name: 'Filter Test Company' })
    expect(await refused(filtered, 'create_record', { model: 'res.partner', values: { name: 'Outside', is_company: false } })).toMatch(/outside this API key's record filter/)
  })

  it('refuses a many2one value naming a record outside its filter, as a missing record', async () => {
    const partners = await everything('res.partner', ['is_company'])
    const person = partners.find((row) => row.is_company === false)!.id
    const company = partners.find((row) => row.is_company === true && row.id !== 1)!.id
    const hidden = await refused(filtered, 'update_records', { model: 'res.partner', ids: [company], values: { parent_id: person } })
    expect(hidden).toMatch(/Record does not exist or has been deleted: res.partner id/)
    const absent = await refused(filtered, 'update_records', { model: 'res.partner', ids: [company], values: { parent_id: 999_999 } })
    expect(hidden.replace(String(person), 'N')).toBe(absent.replace('999999', 'N'))
  })
})
