/**
 * The policy guard on its own, with Odoo metadata given as data. The end-to-end adversarial suite (through the
 * Worker, against the simulated Odoo, checking raw response bodies) is in test/worker/mcp/policy-attacks.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { parseDomain } from '../../../src/domain/domain'
import { parseAggregates, parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { ToolRequest } from '../../../src/guard/request'
import type { MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { parsePolicy, type Policy } from '../../../src/policy/schema'

const m2o = (relation: string) => ({ type: 'many2one', relation })
const METADATA: Record<string, ModelFields> = {
  'res.partner': {
    id: { type: 'integer' },
    name: { type: 'char' },
    display_name: { type: 'char' },
    email: { type: 'char' },
    phone: { type: 'char' },
    vat: { type: 'char' },
    parent_id: m2o('res.partner'),
    country_id: m2o('res.country'),
    user_id: m2o('res.users'),
    child_ids: { type: 'one2many', relation: 'res.partner' },
    image_1920: { type: 'binary' },
    signup_token: { type: 'char' },
  },
  'sale.order': {
    id: { type: 'integer' },
    name: { type: 'char' },
    date_order: { type: 'datetime' },
    amount_total: { type: 'monetary' },
    state: { type: 'selection' },
    margin: { type: 'monetary' },
    partner_id: m2o('res.partner'),
    user_id: m2o('res.users'),
    order_line: { type: 'one2many', relation: 'sale.order.line' },
    access_token: { type: 'char' },
    partner_email: { type: 'char', related: 'partner_id.email' },
  },
  'sale.order.line': { id: { type: 'integer' }, name: { type: 'text' }, price_unit: { type: 'float' }, order_id: m2o('sale.order') },
  'res.country': { id: { type: 'integer' }, name: { type: 'char' }, code: { type: 'char' } },
  'res.users': { id: { type: 'integer' }, name: { type: 'char' }, login: { type: 'char' }, password: { type: 'char' } },
  'ir.config_parameter': { id: { type: 'integer' }, key: { type: 'char' }, value: { type: 'text' } },
}

const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = METADATA[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
}

function policy(document: unknown): Policy {
  const parsed = parsePolicy(document)
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  return parsed.policy
}

const SALES_POLICY = policy({
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'date_order', 'amount_total', 'state', 'partner_id', 'order_line', 'user_id'] },
    'res.partner': { operations: ['read', 'create', 'write'], fields: ['name', 'phone', 'country_id', 'parent_id', 'child_ids'] },
    'res.country': { operations: ['read'], fields: '*' },
  },
})

const guard = (p: Policy | null = SALES_POLICY) => createPolicyGuard(p, metadata)

function read(model: string, extra: Partial<ToolRequest> = {}): ToolRequest {
  return { tool: 'search_records', model, operation: 'read', ...extra }
}

async function denial(promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError)
    expect((error as ToolError).code).toBe('policy_denied')
    return (error as ToolError).message
  }
  throw new Error('expected the guard to refuse')
}

describe('models and operations (default deny)', () => {
  it('refuses everything to a key without a policy', async () => {
    expect(await denial(guard(null).authorize(read('res.partner')))).toMatch(/no policy/)
    expect(guard(null).visibleModels()).toEqual([])
  })

  it('refuses a model the policy does not list', async () => {
    expect(await denial(guard().authorize(read('hr.employee')))).toBe("Model 'hr.employee' is not allowed for this API key.")
  })

  it('refuses an operation the policy does not list, naming the allowed ones', async () => {
    const message = await denial(guard().authorize({ tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { name: 'x' } }))
    expect(message).toBe("Operation 'write' on model 'sale.order' is not allowed for this API key (allowed: read).")
    expect(await denial(guard().authorize({ tool: 'delete_records', model: 'res.partner', operation: 'unlink', ids: [1] }))).toMatch(/'unlink'/)
  })

  it('lets the wildcard model cover ordinary models but never sensitive ones', async () => {
    const wildcard = guard(policy({ version: 1, models: { '*': { operations: ['read'], fields: '*' } } }))
    await expect(wildcard.authorize(read('res.partner'))).resolves.toBeDefined()
    expect(await denial(wildcard.authorize(read('ir.config_parameter')))).toMatch(/'ir.config_parameter' is not allowed/)
    expect(wildcard.filterModels([{ model: 'res.partner', name: 'Contact' }, { model: 'ir.config_parameter', name: 'x' }])).toEqual([
      { model: 'res.partner', name: 'Contact' },
    ])
  })

  it('allows a sensitive model named exactly', async () => {
    const exact = guard(policy({ version: 1, models: { 'ir.config_parameter': { operations: ['read'], fields: ['key', 'value'] } } }))
    const authorized = await exact.authorize(read('ir.config_parameter'))
    expect(authorized.readFields).toEqual(['id', 'key', 'value'])
  })

  it('lists exactly the policy models when there is no wildcard', () => {
    expect(guard().visibleModels()).toEqual(['sale.order', 'res.partner', 'res.country'])
  })
})

describe('fields to return', () => {
  it('defaults to the allowed fields, never all fields', async () => {
    const authorized = await guard().authorize(read('sale.order'))
    expect(authorized.readFields.sort()).toEqual(['amount_total', 'date_order', 'id', 'name', 'order_line', 'partner_id', 'state', 'user_id'])
  })

  it('with "*", leaves out sensitive, binary and related-to-hidden fields by default', async () => {
    const p = policy({
      version: 1,
      models: { 'sale.order': { operations: ['read'], fields: '*' }, 'res.partner': { operations: ['read'], fields: ['name'] } },
    })
    const authorized = await guard(p).authorize(read('sale.order'))
    expect(authorized.readFields).not.toContain('access_token')
    expect(authorized.readFields).not.toContain('partner_email')
    expect(authorized.readFields).toContain('margin')
    const partner = await guard(policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: '*' } } })).authorize(read('res.partner'))
    expect(partner.readFields).not.toContain('image_1920')
    expect(partner.readFields).not.toContain('signup_token')
  })

  it('refuses hidden fields asked for explicitly, naming all of them', async () => {
    const message = await denial(guard().authorize(read('res.partner', { fields: ['name', 'email', 'vat'] })))
    expect(message).toMatch(/^Fields 'email', 'vat' of model 'res.partner' are not allowed for this API key \(in the fields to return\)/)
  })

  it('refuses a sensitive field under "*" unless named exactly', async () => {
    const star = guard(policy({ version: 1, models: { 'res.users': { operations: ['read'], fields: '*' } } }))
    expect(await denial(star.authorize(read('res.users', { fields: ['login', 'password'] })))).toMatch(/'password'/)
    const exact = guard(policy({ version: 1, models: { 'res.users': { operations: ['read'], fields: ['login', 'password'] } } }))
    await expect(exact.authorize(read('res.users', { fields: ['login', 'password'] }))).resolves.toBeDefined()
  })

  it('refuses a related field that mirrors a hidden field', async () => {
    const p = policy({
      version: 1,
      models: { 'sale.order': { operations: ['read'], fields: '*' }, 'res.partner': { operations: ['read'], fields: ['name'] } },
    })
    expect(await denial(guard(p).authorize(read('sale.order', { fields: ['partner_email'] })))).toMatch(/mirrors a field/)
  })
})

describe('filters, order and grouping', () => {
  const domain = (terms: unknown[]) => ({ domain: parseDomain(terms) })

  it.each([
    ['a plain leaf', [['email', '=', 'x@example.com']], /'email' of model 'res.partner'.*the domain/],
    ['a negated leaf', ['!', ['email', '=', 'x@example.com']], /'email'/],
    ['one side of an or', ['|', ['name', '=', 'a'], ['vat', 'ilike', 'BE']], /'vat'/],
    ['a nested negation', ['&', ['name', '!=', false], '!', '|', ['phone', '=', '1'], ['email', '=like', '%@x%']], /'email'/],
    ['a dotted path to a hidden field', [['parent_id.email', '=', 'x']], /'email' of model 'res.partner'.*as 'parent_id.email'/],
    ['a dotted path through a hidden field', [['user_id.login', '=', 'admin']], /'user_id' of model 'res.partner'/],
    ['display_name when the policy does not list it', [['display_name', 'ilike', 'x']], /'display_name' of model 'res.partner' is not allowed/],
    ['text on a relational field (name search)', [['parent_id', 'ilike', 'info@']], /compares a relational field with text/],
    ['a path through a non-relational field', [['name.length', '=', 3]], /'name' of model 'res.partner' is not a relational field/],
  ])('refuses %s', async (_label, terms, message) => {
    expect(await denial(guard().authorize(read('res.partner', domain(terms))))).toMatch(message)
  })

  it('refuses display_name in a filter when only some fields are allowed (it name-searches email, VAT...)', async () => {
    const p = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'display_name'] } } })
    const message = await denial(guard(p).authorize(read('res.partner', domain([['display_name', 'ilike', '@example.com']]))))
    expect(message).toMatch(/'display_name'.*use 'name' instead/)
    await expect(guard(p).authorize(read('res.partner', { fields: ['display_name'] }))).resolves.toBeDefined()
  })

  it('refuses a dotted path into a model the key may not read', async () => {
    const message = await denial(guard().authorize(read('sale.order', domain([['user_id.name', '=', 'Mitchell Admin']]))))
    expect(message).toMatch(/Model 'res.users' is not allowed.*'user_id'/)
  })

  it('accepts allowed fields, allowed paths and ids on relational fields', async () => {
    await expect(
      guard().authorize(read('sale.order', domain([['partner_id.country_id.code', '=', 'BE'], ['partner_id', 'in', [1, 2]], ['state', '=', 'sale']]))),
    ).resolves.toBeDefined()
  })

  it('refuses order, groupby and aggregates on hidden fields', async () => {
    expect(await denial(guard().authorize(read('sale.order', { order: parseOrder('margin desc') })))).toMatch(/'margin'.*the order/)
    const group = (groupby: string[], aggregates: string[]) =>
      guard().authorize({ tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(groupby), aggregates: parseAggregates(aggregates) })
    expect(await denial(group(['margin'], []))).toMatch(/'margin'.*the groupby/)
    expect(await denial(group(['state'], ['margin:sum']))).toMatch(/'margin'.*the aggregates/)
    await expect(group(['state', 'date_order:month'], ['amount_total:sum', 'id:count'])).resolves.toBeDefined()
  })
})

describe('writes', () => {
  const write = (values: Record<string, unknown>, model = 'res.partner') =>
    guard().authorize({ tool: 'update_records', model, operation: 'write', ids: [1], values })

  it('refuses values for hidden fields (mass assignment)', async () => {
    expect(await denial(write({ name: 'ok', email: 'attacker@example.com' }))).toMatch(/'email'.*the values to write/)
  })

  it('checks one2many commands against the related model', async () => {
    expect(await denial(write({ child_ids: [[0, 0, { name: 'x', email: 'x@example.com' }]] }))).toMatch(/'email'/)
    await expect(write({ child_ids: [[0, 0, { name: 'x' }], [4, 7]] })).resolves.toBeDefined()
    expect(await denial(write({ child_ids: [[2, 7]] }))).toMatch(/Operation 'unlink' on model 'res.partner'/)
  })

  it('reads one2many command codes as Odoo does: false is create (0), true is update (1)', async () => {
    // Odoo compares codes with Python's ==, and False == 0, True == 1: these write res.partner records.
    expect(await denial(write({ child_ids: [[false, 0, { name: 'x', email: 'x@example.com' }]] }))).toMatch(/'email'/)
    expect(await denial(write({ child_ids: [[true, 7, { email: 'x@example.com' }]] }))).toMatch(/'email'/)
    const readOnlyLines = guard(policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['order_line'] }, 'sale.order.line': { operations: ['read'], fields: '*' } } }))
    const lines = (command: unknown[]) => readOnlyLines.authorize({ tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { order_line: [command] } })
    expect(await denial(lines([false, 0, { name: 'x' }]))).toMatch(/Operation 'create' on model 'sale.order.line'/)
    expect(await denial(lines([true, 3, { name: 'x' }]))).toMatch(/Operation 'write' on model 'sale.order.line'/)
  })

  it('treats one2many commands that can delete lines (3 unlink, 5 clear, 6 set) like delete (2)', async () => {
    const lineWriter = guard(policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['order_line'] }, 'sale.order.line': { operations: ['read', 'write'], fields: '*' } } }))
    const lines = (command: unknown[]) => lineWriter.authorize({ tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { order_line: [command] } })
    for (const command of [[3, 7], [5], [6, 0, [7]], [2, 7]]) {
      expect(await denial(lines(command))).toMatch(/Operation 'unlink' on model 'sale.order.line'/)
    }
    await expect(lines([4, 7])).resolves.toBeDefined()
  })

  it('refuses create/update commands whose values are not an object (Odoo would take a list of pairs)', async () => {
    expect(await denial(write({ child_ids: [[0, 0, [['email', 'x@example.com']]]] }))).toMatch(/must be an object of field values/)
    expect(await denial(write({ child_ids: [[1, 7]] }))).toMatch(/must be an object of field values/)
  })

  it('refuses context keys outside lang, tz and active_test', async () => {
    const request = read('res.partner', { context: { lang: 'fr_FR', allowed_company_ids: [1, 2] } as never })
    expect(await denial(guard().authorize(request))).toMatch(/'allowed_company_ids'/)
  })
})

describe('output filters', () => {
  it('drops fields Odoo returned beyond the allowed list and strips names of unreadable relations', async () => {
    const authorized = await guard().authorize(read('sale.order', { fields: ['name', 'partner_id', 'user_id'] }))
    const [record] = guard().filterRecords(authorized, [
      { id: 1, name: 'S00001', partner_id: [7, 'Azure Interior'], user_id: [8, 'Sales Agent'], margin: 99, email: 'leak@example.com' },
    ])
    expect(record).toEqual({ id: 1, name: 'S00001', partner_id: [7, 'Azure Interior'], user_id: 8 })
  })

  it('filters aggregate groups the same way', async () => {
    const authorized = await guard().authorize({
      tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(['user_id']), aggregates: parseAggregates(['amount_total:sum']),
    })
    expect(guard().filterGroups(authorized, [{ count: 2, user_id: [8, 'Sales Agent'], 'amount_total:sum': 10, __domain: [['x', '=', 1]] }])).toEqual([
      { count: 2, user_id: 8, 'amount_total:sum': 10 },
    ])
  })

  it('describes only allowed fields', async () => {
    const fields = await guard().filterFieldMetadata('res.partner', METADATA['res.partner']!)
    expect(Object.keys(fields).sort()).toEqual(['child_ids', 'country_id', 'id', 'name', 'parent_id', 'phone'])
    expect(await guard().filterFieldMetadata('hr.employee', { name: { type: 'char' } })).toEqual({})
  })
})
