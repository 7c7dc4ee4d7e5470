// Behaviour of the simulated Odoo beyond the recorded transcripts: access rights per user and model, record rules,
// field groups, writes, ordering, read_group, protocol corner cases, control endpoints and latency.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createState, handleOdooRequest } from '../odoo-sim/handler'
import { startOdooSimulator, type RunningSimulator } from '../odoo-sim/server'
import { DEMO_USERS, DEMO_USER_BY_LOGIN } from '../odoo-sim/users'

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }
type JsonMap = { [key: string]: JsonValue }

interface RpcOutcome {
  result?: JsonValue
  error?: { code: number; message: string; data: { name: string; message: string; debug: string } }
}

function user(login: string) {
  const found = DEMO_USER_BY_LOGIN.get(login)
  if (!found) throw new Error(`no demo user ${login}`)
  return found
}

async function jsonrpc(url: string, service: string, method: string, args: JsonValue[]): Promise<RpcOutcome> {
  const response = await fetch(`${url}/jsonrpc`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'call', id: 42, params: { service, method, args } }),
  })
  expect(response.status).toBe(200)
  const body = (await response.json()) as RpcOutcome & { id: number }
  expect(body.id).toBe(42)
  return body
}

/** execute_kw as `login`, authenticating with its API key. */
function call(url: string, login: string, model: string, method: string, args: JsonValue[] = [], kwargs: JsonMap = {}) {
  const u = user(login)
  return jsonrpc(url, 'object', 'execute_kw', ['mcp_demo', u.uid, u.apiKey, model, method, args, kwargs])
}

async function ok(outcome: Promise<RpcOutcome>): Promise<JsonValue> {
  const { result, error } = await outcome
  expect(error).toBeUndefined()
  return result as JsonValue
}

async function fails(outcome: Promise<RpcOutcome>): Promise<{ name: string; message: string; debug: string }> {
  const { error } = await outcome
  expect(error).toBeDefined()
  return (error as NonNullable<RpcOutcome['error']>).data
}

async function json2(url: string, login: string | null, model: string, method: string, body: JsonMap) {
  const response = await fetch(`${url}/json/2/${model}/${method}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(login ? { authorization: `Bearer ${user(login).apiKey}` } : {}),
    },
    body: JSON.stringify(body),
  })
  return { status: response.status, body: (await response.json()) as JsonValue }
}

let v18: RunningSimulator
let v19: RunningSimulator

beforeAll(async () => {
  v18 = await startOdooSimulator({ version: 18, control: true })
  v19 = await startOdooSimulator({ version: 19, control: true })
})

afterAll(async () => {
  await Promise.all([v18.close(), v19.close()])
})

beforeEach(() => {
  v18.reset()
  v19.reset()
  v18.setLatency(0)
  v19.setLatency(0)
})

describe('demo users', () => {
  it('exports the recording users with login passwords and odoo-apikey-<login> keys', () => {
    expect(DEMO_USERS.map((u) => [u.login, u.uid, u.password, u.apiKey])).toEqual([
      ['admin', 2, 'admin', 'odoo-apikey-admin'],
      ['demo', 6, 'demo', 'odoo-apikey-demo'],
      ['sales_agent', 8, 'sales_agent', 'odoo-apikey-sales_agent'],
      ['sales_manager', 9, 'sales_manager', 'odoo-apikey-sales_manager'],
      ['internal_user', 10, 'internal_user', 'odoo-apikey-internal_user'],
    ])
    expect(user('sales_agent').groups).toContain('sales_team.group_sale_salesman')
    expect(user('sales_agent').groups).not.toContain('base.group_partner_manager')
    expect(user('sales_manager').groups).toContain('sales_team.group_sale_salesman_all_leads')
    expect(user('internal_user').groups.some((g) => g.startsWith('sales_team.'))).toBe(false)
    expect(user('admin').groups).toEqual(
      expect.arrayContaining(['base.group_system', 'hr.group_hr_user', 'sales_team.group_sale_manager']),
    )
  })

  it('authenticates with the password or the API key, and answers false otherwise', async () => {
    expect(await ok(jsonrpc(v18.url, 'common', 'authenticate', ['mcp_demo', 'demo', 'demo', {}]))).toBe(6)
    expect(await ok(jsonrpc(v18.url, 'common', 'authenticate', ['mcp_demo', 'demo', 'odoo-apikey-demo', {}]))).toBe(6)
    expect(await ok(jsonrpc(v18.url, 'common', 'login', ['mcp_demo', 'admin', 'admin']))).toBe(2)
    expect(await ok(jsonrpc(v18.url, 'common', 'authenticate', ['mcp_demo', 'demo', 'wrong', {}]))).toBe(false)
    expect(await ok(jsonrpc(v18.url, 'common', 'authenticate', ['mcp_demo', 'nobody', 'x', {}]))).toBe(false)
  })

  it('refuses execute_kw when the credentials do not belong to the uid', async () => {
    const error = await fails(
      jsonrpc(v18.url, 'object', 'execute_kw', [
        'mcp_demo',
        2,
        user('sales_agent').apiKey,
        'res.partner',
        'search_count',
        [[]],
      ]),
    )
    expect([error.name, error.message]).toEqual(['odoo.exceptions.AccessDenied', 'Access Denied'])
  })

  it('fails like a missing PostgreSQL database for an unknown db name', async () => {
    for (const outcome of [
      jsonrpc(v18.url, 'object', 'execute_kw', ['nope', 2, 'admin', 'res.partner', 'search_count', [[]]]),
      jsonrpc(v18.url, 'common', 'authenticate', ['nope', 'admin', 'admin', {}]),
    ]) {
      const error = await fails(outcome)
      expect(error.name).toBe('psycopg2.OperationalError')
      expect(error.message).toContain('database "nope" does not exist')
    }
  })
})

describe('model access rights', () => {
  const matrix: [string, string, number | 'denied'][] = [
    ['admin', 'sale.order', 20],
    ['admin', 'ir.config_parameter', 9],
    ['admin', 'hr.employee', 20],
    ['demo', 'sale.order', 20],
    ['demo', 'ir.config_parameter', 'denied'],
    ['sales_manager', 'sale.order', 20],
    ['sales_agent', 'sale.order', 3],
    ['sales_agent', 'sale.order.line', 9],
    ['sales_agent', 'hr.employee', 20],
    ['sales_agent', 'ir.config_parameter', 'denied'],
    ['sales_agent', 'ir.model', 15],
    ['internal_user', 'sale.order', 'denied'],
    ['internal_user', 'sale.order.line', 'denied'],
    ['internal_user', 'res.partner', 59],
    ['internal_user', 'product.product', 20],
  ]
  for (const [login, model, expected] of matrix) {
    it(`${login} counts ${model}: ${expected}`, async () => {
      const outcome = call(v18.url, login, model, 'search_count', [[]])
      if (expected === 'denied') {
        const error = await fails(outcome)
        expect(error.name).toBe('odoo.exceptions.AccessError')
        expect(error.message).toMatch(/^You are not allowed to access '.+' \(.+\) records\./)
      } else {
        expect(await ok(outcome)).toBe(expected)
      }
    })
  }

  it('lists the groups allowed for each operation, per version', async () => {
    const create = await fails(call(v18.url, 'sales_agent', 'res.partner', 'create', [{ name: 'x' }]))
    expect(create.message).toContain("You are not allowed to create 'Contact' (res.partner) records.")
    const unlink = await fails(call(v18.url, 'sales_agent', 'sale.order', 'unlink', [[1]]))
    expect(unlink.message).toBe(
      "You are not allowed to delete 'Sales Order' (sale.order) records.\n\nThis operation is allowed for the following groups:\n\t- Sales/Administrator\n\nContact your administrator to request access if necessary.",
    )
    const config = await json2(v19.url, 'sales_agent', 'ir.config_parameter', 'search_read', { domain: [] })
    expect(config.status).toBe(403)
    expect((config.body as JsonMap)['message']).toContain('\t- Administration/Settings\n')
  })

  it('gives system parameters to admin only, get_param included', async () => {
    expect(await ok(call(v18.url, 'admin', 'ir.config_parameter', 'get_param', ['web.base.url']))).toBe(
      'http://localhost:8069',
    )
    expect((await fails(call(v18.url, 'demo', 'ir.config_parameter', 'get_param', ['web.base.url']))).name).toBe(
      'odoo.exceptions.AccessError',
    )
  })

  it('lets internal users list the models through ir.model', async () => {
    const models = (await ok(
      call(v18.url, 'internal_user', 'ir.model', 'search_read', [[['model', 'like', 'sale.%']]], {
        fields: ['model', 'name', 'transient'],
      }),
    )) as JsonMap[]
    expect(models.map((m) => [m['model'], m['name'], m['transient']])).toEqual([
      ['sale.order', 'Sales Order', false],
      ['sale.order.line', 'Sales Order Line', false],
    ])
  })
})

describe('record rules (sales_agent: own documents only)', () => {
  it('filters searches and lines to his orders', async () => {
    expect(await ok(call(v18.url, 'sales_agent', 'sale.order', 'search', [[]]))).toEqual([3, 2, 1])
    const lines = (await ok(
      call(v18.url, 'sales_agent', 'sale.order.line', 'search_read', [[]], { fields: ['order_id'] }),
    )) as JsonMap[]
    expect(new Set(lines.map((l) => (l['order_id'] as JsonValue[])[0]))).toEqual(new Set([1, 2, 3]))
  })

  it('refuses reading or writing another salesman order by id', async () => {
    const read = await fails(call(v18.url, 'sales_agent', 'sale.order', 'read', [[1, 4]], { fields: ['name'] }))
    expect(read.message).toContain(
      "Sorry, Sales Agent (own docs) (id=8) doesn't have 'read' access to:\n- Sales Order (sale.order)",
    )
    const write = await fails(call(v18.url, 'sales_agent', 'sale.order', 'write', [[4], { note: 'x' }]))
    expect(write.message).toContain("doesn't have 'write' access to")
    expect(await ok(call(v18.url, 'sales_agent', 'sale.order', 'write', [[1], { client_order_ref: 'PO-1' }]))).toBe(
      true,
    )
  })

  it('lets him create orders for himself only', async () => {
    const id = await ok(
      call(v18.url, 'sales_agent', 'sale.order', 'create', [
        { partner_id: 10, order_line: [[0, 0, { product_id: 19, product_uom_qty: 2 }]] },
      ]),
    )
    expect(id).toBe(21)
    const [order] = (await ok(
      call(v18.url, 'sales_agent', 'sale.order', 'read', [[21]], {
        fields: ['name', 'user_id', 'amount_total', 'state'],
      }),
    )) as JsonMap[]
    expect(order).toEqual({
      id: 21,
      name: 'S00021',
      user_id: [8, 'Sales Agent (own docs)'],
      amount_total: 4700,
      state: 'draft',
    })
    const other = await fails(call(v18.url, 'sales_agent', 'sale.order', 'create', [{ partner_id: 10, user_id: 2 }]))
    expect(other.message).toContain("doesn't have 'create' access to")
  })
})

describe('field groups', () => {
  it('hides private employee fields from non-HR users (read all fields, fields_get)', async () => {
    const [employee] = (await ok(call(v18.url, 'sales_agent', 'hr.employee', 'read', [[1]]))) as JsonMap[]
    expect(employee).toMatchObject({
      id: 1,
      name: 'Mitchell Admin',
      job_title: 'Chief Technical Officer',
      work_email: 'admin@example.com',
    })
    for (const field of ['private_email', 'private_phone', 'ssnid', 'birthday', 'wage', 'bank_account_id'])
      expect(employee).not.toHaveProperty(field)
    const fields = (await ok(
      call(v18.url, 'sales_agent', 'hr.employee', 'fields_get', [], { attributes: ['type'] }),
    )) as JsonMap
    expect(fields).toHaveProperty('work_email')
    expect(fields).not.toHaveProperty('private_email')
    const adminFields = (await ok(
      call(v18.url, 'admin', 'hr.employee', 'fields_get', [], { attributes: ['type'] }),
    )) as JsonMap
    expect(adminFields['private_email']).toEqual({ type: 'char' })
  })

  it('gives HR officers the private fields', async () => {
    const [employee] = (await ok(
      call(v18.url, 'admin', 'hr.employee', 'read', [[2]], {
        fields: ['private_email', 'ssnid', 'wage', 'bank_account_id'],
      }),
    )) as JsonMap[]
    expect(employee).toEqual({
      id: 2,
      private_email: 'marc.demo.home@example.org',
      ssnid: '126-12-1542',
      wage: 3500,
      bank_account_id: [2, 'US42 0000 1111 2424 3347'],
    })
  })

  it('treats a private field in a domain or an order like Odoo (hr.employee.public)', async () => {
    const viaSearch = await fails(call(v18.url, 'sales_agent', 'hr.employee', 'search', [[['ssnid', '!=', false]]]))
    expect([viaSearch.name, viaSearch.message]).toEqual([
      'odoo.exceptions.AccessError',
      'You do not have access to this document.',
    ])
    const viaSearchRead = await fails(
      call(v18.url, 'sales_agent', 'hr.employee', 'search_read', [[['ssnid', '!=', false]]], { fields: ['name'] }),
    )
    expect(viaSearchRead.message).toBe("Invalid field hr.employee.public.ssnid in leaf ('ssnid', '!=', False)")
    const json = await json2(v19.url, 'sales_agent', 'hr.employee', 'search_count', {
      domain: [['private_email', 'ilike', '@']],
    })
    expect(json).toMatchObject({ status: 403, body: { message: 'You do not have access to this document.' } })
    expect(await ok(call(v18.url, 'admin', 'hr.employee', 'search_count', [[['private_email', 'ilike', '@']]]))).toBe(
      20,
    )
  })

  it('refuses other groups= fields with the generic message of each version', async () => {
    const e18 = await fails(call(v18.url, 'sales_agent', 'res.partner', 'read', [[10]], { fields: ['name', 'credit'] }))
    expect(e18.message).toBe(
      'You do not have enough rights to access the fields "credit" on Contact (res.partner). Please contact your system administrator.\n\n' +
        "Operation: read\nUser: 8\nFields:\n- credit (allowed for groups 'Invoicing / Invoicing', 'Technical / Show Accounting Features - Readonly')",
    )
    const e19 = await json2(v19.url, 'sales_agent', 'res.partner', 'read', { ids: [10], fields: ['name', 'credit'] })
    expect(e19.status).toBe(403)
    expect((e19.body as JsonMap)['message']).toBe(
      'You do not have enough rights to access the field "credit" on Contact (res.partner). Please contact your system administrator.\n\nOperation: read',
    )
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'read', [[10]], { fields: ['credit'] }))).toEqual([
      { id: 10, credit: 0 },
    ])
  })

  it('names the groups field groups_id in 18 and group_ids in 19', async () => {
    const [demo18] = (await ok(
      call(v18.url, 'admin', 'res.users', 'read', [[6]], { fields: ['groups_id'] }),
    )) as JsonMap[]
    expect(demo18).toEqual({ id: 6, groups_id: [8, 13, 9, 1, 26, 19, 20, 43, 7, 21] })
    const demo19 = await json2(v19.url, 'admin', 'res.users', 'read', { ids: [6], fields: ['group_ids'] })
    expect(demo19.status).toBe(200)
    expect(await fails(call(v19.url, 'admin', 'res.users', 'read', [[6]], { fields: ['groups_id'] }))).toMatchObject({
      message: "Invalid field 'groups_id' on 'res.users'",
    })
  })
})

describe('reading and writing', () => {
  it('formats values like read(): many2one pairs, id lists, datetimes, floats, false', async () => {
    const [order] = (await ok(
      call(v18.url, 'admin', 'sale.order', 'read', [[1]], {
        fields: ['partner_id', 'order_line', 'date_order', 'validity_date', 'note', 'amount_total'],
      }),
    )) as JsonMap[]
    expect(order).toEqual({
      id: 1,
      partner_id: [10, 'Deco Addict'],
      order_line: [1, 2, 3],
      date_order: '2026-10-26 21:18:00',
      validity_date: '2026-11-25',
      note: false,
      amount_total: 1740,
    })
    const [bare] = (await ok(
      call(v18.url, 'admin', 'sale.order', 'read', [[1]], { fields: ['partner_id'], load: null }),
    )) as JsonMap[]
    expect(bare).toEqual({ id: 1, partner_id: 10 })
    const [all] = (await ok(call(v18.url, 'admin', 'res.partner', 'read', [[27]]))) as JsonMap[]
    expect(Object.keys(all)[0]).toBe('id')
    expect(all).toMatchObject({
      display_name: 'Azure Interior, Brandon Freeman',
      parent_id: [15, 'Azure Interior'],
      create_uid: [1, 'OdooBot'],
    })
  })

  it('creates one record from a dict (id) and several from a list (ids); JSON-2 always answers ids', async () => {
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'create', [{ name: 'One' }]))).toBe(63)
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'create', [[{ name: 'Two' }, { name: 'Three' }]]))).toEqual([
      64, 65,
    ])
    expect(await json2(v19.url, 'admin', 'res.partner', 'create', { vals_list: { name: 'Four' } })).toEqual({
      status: 200,
      body: [65],
    })
  })

  it('raises Odoo errors for bad writes', async () => {
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'create', [{ name: 'x', nope: 1 }]))).toMatchObject({
      name: 'builtins.ValueError',
      message: "Invalid field 'nope' on model 'res.partner'",
    })
    expect(
      await fails(call(v18.url, 'admin', 'res.partner', 'create', [{ email: 'noname@example.com' }])),
    ).toMatchObject({
      name: 'odoo.exceptions.ValidationError',
      message: 'The operation cannot be completed: Contacts require a name',
    })
    expect(await fails(call(v18.url, 'admin', 'hr.employee', 'write', [[1], { parent_id: 2 }]))).toMatchObject({
      message: 'You cannot create a recursive hierarchy.',
    })
    expect(await fails(call(v18.url, 'admin', 'sale.order', 'create', [{ name: 'no customer' }]))).toMatchObject({
      message:
        'The operation cannot be completed:\n- Create/update: a mandatory field is not set.\n- Delete: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Sales Order (sale.order)\nField: Customer (partner_id)',
    })
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'unlink', [[10]]))).toMatchObject({
      message:
        'The operation cannot be completed: another model requires the record being deleted. If possible, archive it instead.\n\nModel: Sales Order (sale.order)\nConstraint: sale_order_partner_id_fkey',
    })
    expect(await fails(call(v18.url, 'admin', 'sale.order', 'unlink', [[4]]))).toMatchObject({
      name: 'odoo.exceptions.UserError',
      message: 'You can not delete a sent quotation or a confirmed sales order. You must first cancel it.',
    })
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'unlink', [[999]]))).toMatchObject({
      name: 'odoo.exceptions.MissingError',
    })
  })

  it('deletes draft orders with their lines, and confirms quotations', async () => {
    expect(await ok(call(v18.url, 'admin', 'sale.order', 'unlink', [[1]]))).toBe(true)
    expect(await ok(call(v18.url, 'admin', 'sale.order.line', 'search_count', [[['id', 'in', [1, 2, 3]]]]))).toBe(0)
    expect(await ok(call(v18.url, 'admin', 'sale.order', 'action_confirm', [[2]]))).toBe(true)
    expect(await ok(call(v18.url, 'admin', 'sale.order', 'search_count', [[['state', '=', 'sale']]]))).toBe(16)
  })

  it('applies Python call semantics to JSON-RPC arguments', async () => {
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'search_count', [[]], { bogus: 1 }))).toMatchObject({
      name: 'builtins.TypeError',
      message: "BaseModel.search_count() got an unexpected keyword argument 'bogus'",
    })
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'search_count', []))).toMatchObject({
      message: "BaseModel.search_count() missing 1 required positional argument: 'domain'",
    })
    expect(await fails(call(v18.url, 'admin', 'res.partner', 'read', []))).toMatchObject({
      name: 'builtins.IndexError',
    })
    expect(
      await ok(call(v18.url, 'admin', 'res.partner', 'search', [[['is_company', '=', true]], 0, 2, 'name desc'])),
    ).toEqual([1, 14])
  })
})

describe('ordering, paging, grouping, name_search', () => {
  it('orders by the model default order or the given spec', async () => {
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'search', [[['is_company', '=', true]]]))).toEqual([
      15, 10, 11, 16, 12, 13, 14, 1,
    ])
    expect(
      await ok(call(v18.url, 'admin', 'sale.order', 'search', [[]], { order: 'amount_total desc', limit: 3 })),
    ).toEqual([20, 2, 4])
    expect(
      await ok(call(v18.url, 'admin', 'sale.order', 'search', [[]], { order: 'partner_id, id desc', limit: 3 })),
    ).toEqual([11, 1, 19])
    expect(await ok(call(v18.url, 'admin', 'sale.order', 'search', [[]], { order: 'id', offset: 18 }))).toEqual([
      19, 20,
    ])
    expect(
      await fails(call(v18.url, 'admin', 'res.partner', 'search', [[]], { order: 'name; drop table' })),
    ).toMatchObject({
      message: "Invalid order 'name; drop table' for model 'res.partner'",
    })
  })

  it('groups with read_group (lazy: <field>_count and empty selection groups; not lazy: __count)', async () => {
    const lazy = (await ok(
      call(v18.url, 'admin', 'sale.order', 'read_group', [[], ['amount_total:sum'], ['state']]),
    )) as JsonMap[]
    expect(lazy.map((g) => [g['state'], g['state_count'], g['amount_total']])).toEqual([
      ['draft', 4, 5470],
      ['sent', 1, 1740],
      ['sale', 15, 17670.5],
      ['cancel', 0, false],
    ])
    const months = (await ok(
      call(v18.url, 'admin', 'sale.order', 'read_group', [[], ['amount_total'], ['date_order:month']], { lazy: false }),
    )) as JsonMap[]
    expect(months.map((g) => [g['date_order:month'], g['__count']])).toEqual([
      ['October 2026', 6],
      ['November 2026', 14],
    ])
    expect(months[0]?.['__domain']).toEqual([
      '&',
      ['date_order', '>=', '2026-10-01 00:00:00'],
      ['date_order', '<', '2026-11-01 00:00:00'],
    ])
    const bySalesman = (await ok(
      call(v18.url, 'sales_manager', 'sale.order', 'read_group', [
        [['state', '!=', 'cancel']],
        ['amount_total'],
        ['user_id'],
      ]),
    )) as JsonMap[]
    expect(bySalesman.map((g) => [g['user_id'], g['user_id_count']])).toEqual([
      [[2, 'Mitchell Admin'], 9],
      [[8, 'Sales Agent (own docs)'], 3],
      [[9, 'Sales Manager (all docs)'], 8],
    ])
    expect(bySalesman[0]?.['__domain']).toEqual(['&', ['state', '!=', 'cancel'], ['user_id', '=', 2]])
  })

  it('serves formatted_read_group on Odoo 19 only', async () => {
    const groups = await json2(v19.url, 'sales_manager', 'sale.order', 'formatted_read_group', {
      domain: [],
      groupby: ['partner_id'],
      aggregates: ['__count'],
      order: '__count desc',
      limit: 1,
    })
    expect(groups.body).toEqual([
      { partner_id: [11, 'Gemini Furniture'], __extra_domain: [['partner_id', '=', 11]], __count: 13 },
    ])
    expect(await fails(call(v18.url, 'admin', 'sale.order', 'formatted_read_group', [[]]))).toMatchObject({
      name: 'builtins.AttributeError',
      message: "The method 'sale.order.formatted_read_group' does not exist",
    })
  })

  it('searches names with name_search (args in 18, domain in 19)', async () => {
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'name_search', ['Azure'], { limit: 2 }))).toEqual([
      [15, 'Azure Interior'],
      [27, 'Azure Interior, Brandon Freeman'],
    ])
    expect(
      await ok(
        call(v18.url, 'admin', 'res.partner', 'name_search', [], { name: 'azure', args: [['is_company', '=', false]] }),
      ),
    ).toEqual([
      [27, 'Azure Interior, Brandon Freeman'],
      [34, 'Azure Interior, Colleen Diaz'],
      [35, 'Azure Interior, Nicole Ford'],
    ])
    expect(await json2(v19.url, 'admin', 'product.product', 'name_search', { name: 'FURN_82', domain: [] })).toEqual({
      status: 200,
      body: [[19, '[FURN_8220] Four Person Desk']],
    })
  })
})

describe('protocol corner cases', () => {
  it('has no JSON-2 and no GET /web/version on Odoo 18', async () => {
    const json2On18 = await fetch(`${v18.url}/json/2/res.partner/search_count`, { method: 'POST', body: '{}' })
    expect(json2On18.status).toBe(404)
    expect(json2On18.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect((await fetch(`${v18.url}/web/version`)).status).toBe(404)
    expect(await (await fetch(`${v19.url}/web/version`)).json()).toEqual({
      version_info: [19, 0, 0, 'final', 0, ''],
      version: '19.0',
    })
  })

  it('answers werkzeug-style to a GET or a malformed body on /jsonrpc', async () => {
    expect((await fetch(`${v18.url}/jsonrpc`)).status).toBe(405)
    const bad = await fetch(`${v18.url}/jsonrpc`, { method: 'POST', body: '{"jsonrpc": ' })
    expect([bad.status, await bad.text()]).toEqual([400, 'Invalid JSON data'])
  })

  it('reports unknown services and methods like dispatch_rpc', async () => {
    expect(await fails(jsonrpc(v18.url, 'nope', 'x', []))).toMatchObject({
      name: 'builtins.KeyError',
      message: "'nope'",
    })
    expect(await fails(jsonrpc(v18.url, 'common', 'nope', []))).toMatchObject({
      name: 'builtins.Exception',
      message: 'Method not found: nope',
    })
    expect(await ok(jsonrpc(v19.url, 'db', 'list', []))).toEqual(['mcp_demo'])
  })

  it('redirects / to the login page like Odoo', async () => {
    const response = await fetch(`${v18.url}/`)
    expect(response.status).toBe(200)
    expect(response.url.startsWith(`${v18.url}/web/login`)).toBe(true)
  })

  it('runs without a server: handleOdooRequest is a pure function of (state, request)', () => {
    const state = createState({ version: 19 })
    const response = handleOdooRequest(state, {
      method: 'POST',
      path: '/json/2/sale.order/search_count',
      headers: { authorization: 'Bearer odoo-apikey-sales_agent', 'content-type': 'application/json' },
      body: '{"domain": []}',
    })
    expect(response).toMatchObject({ status: 200, body: '3' })
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8')
  })
})

describe('control endpoints and latency', () => {
  it('are absent unless enabled', async () => {
    const plain = await startOdooSimulator({ version: 18 })
    try {
      expect((await fetch(`${plain.url}/__sim/reset`, { method: 'POST' })).status).toBe(404)
    } finally {
      await plain.close()
    }
  })

  it('restores the demo data on POST /__sim/reset', async () => {
    await ok(call(v18.url, 'admin', 'res.partner', 'unlink', [[40]]))
    await ok(call(v18.url, 'admin', 'res.partner', 'create', [{ name: 'Temp' }]))
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'search_count', [[]]))).toBe(59)
    expect((await fetch(`${v18.url}/__sim/reset`, { method: 'POST' })).status).toBe(200)
    expect(
      await ok(call(v18.url, 'admin', 'res.partner', 'search', [[['name', 'in', ['Temp', 'Kevin Clarke']]]])),
    ).toEqual([40])
    expect(await ok(call(v18.url, 'admin', 'res.partner', 'create', [{ name: 'Again' }]))).toBe(63)
  })

  it('logs the calls it received (method, model, uid, arguments, headers) and clears the log', async () => {
    await fetch(`${v19.url}/__sim/calls/clear`, { method: 'POST' })
    await json2(v19.url, 'sales_agent', 'sale.order', 'search_read', {
      domain: [['state', '=', 'draft']],
      fields: ['name'],
      context: { lang: 'en_US' },
    })
    await call(v19.url, 'admin', 'res.partner', 'read', [[1]], { fields: ['name'] })
    await jsonrpc(v19.url, 'common', 'version', [])
    const calls = (await (await fetch(`${v19.url}/__sim/calls`)).json()) as JsonMap[]
    expect(calls).toHaveLength(3)
    expect(calls[0]).toMatchObject({
      protocol: 'json2',
      service: 'json2',
      method: 'search_read',
      model: 'sale.order',
      uid: 8,
      login: 'sales_agent',
      credential: 'apikey',
      kwargs: { domain: [['state', '=', 'draft']], fields: ['name'] },
      context: { lang: 'en_US' },
      status: 200,
      error: null,
    })
    expect((calls[0]?.['headers'] as JsonMap)['authorization']).toBe('Bearer odoo-apikey-sales_agent')
    expect(calls[1]).toMatchObject({
      protocol: 'jsonrpc',
      service: 'object',
      method: 'read',
      model: 'res.partner',
      uid: 2,
      ids: [1],
      args: [[1]],
      kwargs: { fields: ['name'] },
    })
    expect((calls[1]?.['rawArgs'] as JsonValue[]).slice(0, 3)).toEqual(['mcp_demo', 2, 'odoo-apikey-admin'])
    expect(calls[2]).toMatchObject({ service: 'common', method: 'version', uid: null })
    await fetch(`${v19.url}/__sim/calls/clear`, { method: 'POST' })
    expect(await (await fetch(`${v19.url}/__sim/calls`)).json()).toEqual([])
  })

  it('keeps the last 1000 calls', () => {
    const state = createState({ version: 18, control: true })
    const request = {
      method: 'POST',
      path: '/jsonrpc',
      headers: {},
      body: '{"jsonrpc": "2.0", "id": 1, "params": {"service": "common", "method": "version", "args": []}}',
    }
    for (let i = 0; i < 1005; i++) handleOdooRequest(state, request)
    expect(state.calls).toHaveLength(1000)
    expect(state.calls[0]?.seq).toBe(6)
  })

  it('delays every answer by the configured latency (setLatency and POST /__sim/latency)', async () => {
    v18.setLatency(120)
    let start = performance.now()
    await jsonrpc(v18.url, 'common', 'version', [])
    expect(performance.now() - start).toBeGreaterThanOrEqual(110)
    await fetch(`${v18.url}/__sim/latency`, { method: 'POST', body: JSON.stringify({ ms: 0 }) })
    start = performance.now()
    await jsonrpc(v18.url, 'common', 'version', [])
    expect(performance.now() - start).toBeLessThan(100)
  })
})

// env.companies (odoo/api.py): allowed_company_ids outside the user's company_ids raise AccessError on a model with a
// company (no transcript records it; message from the 18.0 and 19.0 sources).
describe('allowed_company_ids', () => {
  it("refuses companies the user does not have with Odoo's AccessError, and takes its own", async () => {
    const refused = await fails(call(v18.url, 'sales_agent', 'sale.order', 'search_count', [[]], { context: { allowed_company_ids: [1, 2] } }))
    expect(refused.name).toBe('odoo.exceptions.AccessError')
    expect(refused.message).toBe('Access to unauthorized or invalid companies.')
    expect(await ok(call(v18.url, 'sales_agent', 'sale.order', 'search_count', [[]], { context: { allowed_company_ids: [1] } }))).toBe(
      await ok(call(v18.url, 'sales_agent', 'sale.order', 'search_count', [[]])),
    )
    // A model without a company asks nothing of env.companies.
    expect(await ok(call(v18.url, 'sales_agent', 'res.country', 'search_count', [[]], { context: { allowed_company_ids: [7] } }))).toBeGreaterThan(0)
  })
})

// Multi-company record rules (sale/security/sale_security.xml, 18.0: sale_order_comp_rule, a global rule
// `[('company_id', 'in', company_ids)]`), with company_ids = env.companies: allowed_company_ids, else every company
// of the user. The demo has one company; a second one is added here.
describe('multi-company record rules', () => {
  function twoCompanies(version: 19) {
    const state = createState({ version })
    state.db.insert('res.company', { id: 2, name: 'My Company (Chicago)', active: true, currency_id: 1, partner_id: 1 } as never)
    const manager = user('sales_manager')
    state.db.update('res.users', manager.uid, { company_ids: [1, 2] } as never)
    const order = { ...state.db.get('sale.order', 1)!, id: 9001, name: 'S09001', company_id: 2 }
    state.db.insert('sale.order', order as never)
    const count = (login: string, context: Record<string, unknown> | null) => {
      const response = handleOdooRequest(state, {
        method: 'POST',
        path: '/json/2/sale.order/search',
        headers: { authorization: `Bearer ${user(login).apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ domain: [], ...(context ? { context } : {}) }),
      })
      return { status: response.status, body: JSON.parse(response.body) as unknown }
    }
    return { count }
  }

  it('shows a company-2 order only where company 2 is among env.companies (Odoo 19, JSON-2)', () => {
    const { count } = twoCompanies(19)
    expect(count('sales_manager', null).body).toContain(9001)
    expect(count('sales_manager', { allowed_company_ids: [2] }).body).toEqual([9001])
    expect(count('sales_manager', { allowed_company_ids: [1] }).body).not.toContain(9001)
    expect(count('sales_manager', { allowed_company_ids: [1, 2] }).body).toContain(9001)
    // A user of company 1 only never sees it, and cannot ask for company 2.
    expect(count('admin', null).body).not.toContain(9001)
    expect(count('admin', { allowed_company_ids: [2] }).status).toBe(403)
  })
})
