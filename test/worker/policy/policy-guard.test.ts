/**
 * The policy guard on its own, with Odoo metadata given as data. The end-to-end adversarial suite (through the
 * Worker, against the simulated Odoo, checking raw response bodies) is in test/worker/mcp/policy-attacks.test.ts, and
 * the eight findings of issue 12 end to end in test/worker/mcp/policy-findings.test.ts. The rules are the table of
 * docs/SECURITY.md, "What a policy hides"; tests whose expectation changed with that table say so in their name.
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
    complete_name: { type: 'char' },
    email: { type: 'char' },
    phone: { type: 'char' },
    vat: { type: 'char' },
    is_company: { type: 'boolean' },
    active: { type: 'boolean' },
    parent_id: m2o('res.partner'),
    country_id: m2o('res.country'),
    user_id: m2o('res.users'),
    child_ids: { type: 'one2many', relation: 'res.partner', relation_field: 'parent_id' },
    category_id: { type: 'many2many', relation: 'res.partner.category' },
    image_1920: { type: 'binary' },
    signup_token: { type: 'char' },
  },
  'sale.order': {
    id: { type: 'integer' },
    name: { type: 'char' },
    display_name: { type: 'char' },
    date_order: { type: 'datetime' },
    amount_total: { type: 'monetary' },
    state: { type: 'selection' },
    margin: { type: 'monetary' },
    partner_id: m2o('res.partner'),
    user_id: m2o('res.users'),
    order_line: { type: 'one2many', relation: 'sale.order.line', relation_field: 'order_id' },
    tag_ids: { type: 'many2many', relation: 'crm.tag' },
    access_token: { type: 'char' },
    partner_email: { type: 'char', related: 'partner_id.email' },
  },
  'sale.order.line': {
    id: { type: 'integer' }, name: { type: 'text' }, display_name: { type: 'char' }, price_unit: { type: 'float' }, order_id: m2o('sale.order'), product_id: m2o('product.product'),
  },
  'product.product': {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, default_code: { type: 'char' }, categ_id: m2o('product.category'), active: { type: 'boolean' },
  },
  'product.category': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, parent_id: m2o('product.category') },
  'hr.employee': {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, parent_id: m2o('hr.employee'), coach_id: m2o('hr.employee'), department_id: m2o('hr.department'),
  },
  'hr.department': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, parent_id: m2o('hr.department') },
  'crm.tag': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, active: { type: 'boolean' } },
  'res.partner.category': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' } },
  'res.country': { id: { type: 'integer' }, name: { type: 'char' }, code: { type: 'char' } },
  'res.users': {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, login: { type: 'char' }, password: { type: 'char' }, active: { type: 'boolean' },
    groups_id: { type: 'many2many', relation: 'res.groups' },
  },
  'res.groups': { id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' } },
  'ir.config_parameter': { id: { type: 'integer' }, key: { type: 'char' }, value: { type: 'text' } },
}

/** Default orders (`_order`, as ir.model gives it). */
const ORDERS: Record<string, string> = {
  'sale.order': 'date_order desc, id desc',
  'res.partner': 'complete_name asc, id desc',
  'res.users': 'name, login',
  'product.product': 'default_code, name, id',
  'res.country': 'name',
}

const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = METADATA[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
  async defaultOrderOf(model) {
    return ORDERS[model] ?? null
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

/** The message of a refusal with `code`: `policy_denied` (the policy), or `invalid_values` (a value the gateway does not read as Odoo would). */
async function refusal(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError)
    expect((error as ToolError).code, (error as ToolError).message).toBe(code)
    return (error as ToolError).message
  }
  throw new Error('expected the guard to refuse')
}
const denial = (promise: Promise<unknown>) => refusal(promise, 'policy_denied')
const invalid = (promise: Promise<unknown>) => refusal(promise, 'invalid_values')

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
    expect(await denial(guard(p).authorize(read('sale.order', { fields: ['partner_email'] })))).toMatch(/'partner_email' of model 'sale.order' is not allowed/)
    expect(await guard(p).filterFieldMetadata('sale.order', METADATA['sale.order']!)).not.toHaveProperty('partner_email')
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
    ['text on a relational field (name search)', [['parent_id', 'ilike', 'info@']], /'parent_id ilike' with a text value runs Odoo's name search on 'res.partner'/],
    ['a path through a non-relational field', [['name.length', '=', 3]], /'name' of model 'res.partner' is not a relational field/],
  ])('refuses %s', async (_label, terms, message) => {
    expect(await denial(guard().authorize(read('res.partner', domain(terms))))).toMatch(message)
  })

  it('refuses display_name in a filter when only some fields are allowed (it name-searches email, VAT...)', async () => {
    const p = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'display_name'] } } })
    const message = await denial(guard(p).authorize(read('res.partner', domain([['display_name', 'ilike', '@example.com']]))))
    expect(message).toMatch(/'display_name ilike' runs Odoo's name search on 'res.partner'.*"fields": "\*"/)
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

  it('refuses create/update commands whose values are not an object (Odoo would take a list of pairs), now as invalid_values rather than policy_denied', async () => {
    expect(await invalid(write({ child_ids: [[0, 0, [['email', 'x@example.com']]]] }))).toMatch(/must be an object of field values/)
    expect(await invalid(write({ child_ids: [[1, 7]] }))).toMatch(/must be an object of field values/)
  })

  it('refuses context keys outside lang, tz and active_test', async () => {
    const request = read('res.partner', { context: { lang: 'fr_FR', allowed_company_ids: [1, 2] } as never })
    expect(await denial(guard().authorize(request))).toMatch(/'allowed_company_ids'/)
  })
})

describe('output filters', () => {
  it('drops fields Odoo returned beyond the allowed list and strips display names unless display_name itself is allowed (changed: a readable name is no longer enough)', async () => {
    const answer = { id: 1, name: 'S00001', partner_id: [7, 'Azure Interior'], user_id: [8, 'Sales Agent'], margin: 99, email: 'leak@example.com' }
    const authorized = await guard().authorize(read('sale.order', { fields: ['name', 'partner_id', 'user_id'] }))
    // res.partner lists name but not display_name; res.users is not in the policy.
    expect(guard().filterRecords(authorized, [answer])).toEqual([{ id: 1, name: 'S00001', partner_id: 7, user_id: 8 }])
    const withNames = guard(policy({
      version: 1,
      models: { 'sale.order': { operations: ['read'], fields: ['name', 'partner_id', 'user_id'] }, 'res.partner': { operations: ['read'], fields: ['display_name'] } },
    }))
    const shown = await withNames.authorize(read('sale.order', { fields: ['name', 'partner_id', 'user_id'] }))
    expect(withNames.filterRecords(shown, [answer])).toEqual([{ id: 1, name: 'S00001', partner_id: [7, 'Azure Interior'], user_id: 8 }])
  })

  it('returns one2many / many2many ids sorted by id, not in the related model\'s order', async () => {
    const authorized = await guard().authorize(read('sale.order', { fields: ['order_line'] }))
    expect(guard().filterRecords(authorized, [{ id: 1, order_line: [30, 4, 12] }])).toEqual([{ id: 1, order_line: [4, 12, 30] }])
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

describe('conditions, orders and groups by field type', () => {
  const domain = (terms: unknown[]) => ({ domain: parseDomain(terms) })
  const partners = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'is_company', 'image_1920', 'parent_id', 'country_id', 'child_ids'] } } })

  it.each([
    ['a pattern on a boolean', [['is_company', 'ilike', 't']], /operator 'ilike' cannot be used on a boolean field/],
    ['a comparison on a binary', [['image_1920', '>', 'x']], /operator '>' cannot be used on a binary field/],
    ['a comparison on a many2one', [['country_id', '>', 3]], /operator '>' cannot be used on a many2one field/],
    ['a pattern on id', [['id', 'like', '1']], /operator 'like' cannot be used on 'id'/],
    ['any on a scalar', [['name', 'any', [['id', '=', 1]]]], /operator 'any' cannot be used on a char field/],
  ])('refuses %s', async (_label, terms, message) => {
    expect(await denial(guard(partners).authorize(read('res.partner', domain(terms))))).toMatch(message)
  })

  it('refuses a condition on a field Odoo does not have, even under "*"', async () => {
    const star = guard(policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: '*' } } }))
    expect(await denial(star.authorize(read('res.partner', domain([['no_such_field', '=', 1]]))))).toMatch(/'no_such_field' does not exist on model 'res.partner'/)
  })

  it('accepts what each type understands', async () => {
    const terms = [['is_company', '=', true], ['image_1920', '!=', false], ['name', '=ilike', 'a%'], ['id', '>', 3], ['country_id', 'in', [1, false]], ['child_ids', '=', false]]
    await expect(guard(partners).authorize(read('res.partner', domain(terms)))).resolves.toBeDefined()
  })

  it('checks the sub-domain of any / not any on the related model', async () => {
    const lines = (fields: string[] | '*', operations = ['read']) =>
      guard(policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: ['name', 'order_line'] }, 'sale.order.line': { operations, fields } } }))
    const terms = domain([['order_line', 'any', [['price_unit', '>', 100]]]])
    await expect(lines(['price_unit']).authorize(read('sale.order', terms))).resolves.toBeDefined()
    expect(await denial(lines(['name']).authorize(read('sale.order', terms)))).toMatch(/'price_unit' of model 'sale.order.line'/)
    expect(await denial(lines(['price_unit'], ['write']).authorize(read('sale.order', terms)))).toMatch(/Operation 'read' on model 'sale.order.line'/)
    const nested = domain(['!', ['order_line', 'not any', ['|', ['name', 'ilike', 'desk'], ['product_id', 'ilike', 'FURN']]]])
    // A name search into a model the policy does not list is refused as that model (and alerts as model_denied)...
    expect(await denial(lines('*').authorize(read('sale.order', nested)))).toMatch(/Model 'product.product' is not allowed .*'product_id ilike'/)
    // ...and into a listed model without "*" as a name search.
    const withProducts = guard(
      policy({
        version: 1,
        models: {
          'sale.order': { operations: ['read'], fields: ['name', 'order_line'] },
          'sale.order.line': { operations: ['read'], fields: '*' },
          'product.product': { operations: ['read'], fields: ['name'] },
        },
      }),
    )
    expect(await denial(withProducts.authorize(read('sale.order', nested)))).toMatch(/name search on 'product.product'/)
  })

  it('refuses groupby and aggregates a type does not take, and passes fields Odoo does not know to Odoo', async () => {
    const group = (groupby: string[], aggregates: string[] = []) =>
      guard(policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: '*' } } }))
        .authorize({ tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(groupby), aggregates: parseAggregates(aggregates) })
    expect(await denial(group(['name:month']))).toMatch(/only date and datetime fields take a granularity/)
    expect(await denial(group(['state'], ['state:sum']))).toMatch(/'sum' cannot be computed on a selection field/)
    expect(await denial(group(['state'], ['id:sum']))).toMatch(/Aggregate 'id:sum': 'sum' cannot be computed/)
    await expect(group(['state', 'partner_id', 'date_order:week'], ['amount_total:avg', 'partner_id:count_distinct', 'date_order:max', 'id:count'])).resolves.toBeDefined()
    // Not in fields_get: Odoo answers with its own error, which names the field.
    await expect(group(['x_studio_field'], ['x_other:sum'])).resolves.toBeDefined()
  })
})

describe('the eight findings of issue 12 (each of these got through the guard before the rewrite)', () => {
  const domain = (terms: unknown[]) => ({ domain: parseDomain(terms) })
  const group = (p: Policy, model: string, groupby: string[]) =>
    guard(p).authorize({ tool: 'aggregate_records', model, operation: 'read', groupby: parseGroupBy(groupby), aggregates: [] })
  const update = (p: Policy, model: string, values: Record<string, unknown>) => guard(p).authorize({ tool: 'update_records', model, operation: 'write', ids: [1], values })

  it('1. child_of / parent_of need every many2one of the walked model to itself visible, and that model readable', async () => {
    const employees = (fields: string[]) => guard(policy({ version: 1, models: { 'hr.employee': { operations: ['read'], fields } } }))
    // coach_id is hidden: walking "the hierarchy" might walk it (Odoo's _parent_name is not in fields_get).
    expect(await denial(employees(['name', 'parent_id']).authorize(read('hr.employee', domain([['id', 'child_of', 1]]))))).toMatch(/walks the hierarchy of 'hr.employee'.*'coach_id'/)
    expect(await denial(employees(['name', 'parent_id']).authorize(read('hr.employee', domain([['parent_id', 'parent_of', 3]]))))).toMatch(/'coach_id'/)
    await expect(employees(['name', 'parent_id', 'coach_id']).authorize(read('hr.employee', domain([['id', 'child_of', 1], ['parent_id', 'parent_of', 3]])))).resolves.toBeDefined()
    // Through an allowed many2one into a model the key may not read.
    const orders = guard(policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: ['name', 'partner_id'] } } }))
    expect(await denial(orders.authorize(read('sale.order', domain([['partner_id', 'child_of', 7]]))))).toMatch(/Model 'res.partner' is not allowed/)
    // A model the key may not read, and a model without a parent field.
    expect(await denial(employees(['name', 'department_id']).authorize(read('hr.employee', domain([['department_id', 'child_of', 2]]))))).toMatch(/Model 'hr.department' is not allowed/)
    const countries = guard(policy({ version: 1, models: { 'res.country': { operations: ['read'], fields: '*' } } }))
    expect(await denial(countries.authorize(read('res.country', domain([['id', 'child_of', 1]]))))).toMatch(/has no parent field/)
  })

  it('2. a text value on id or with child_of is a name search: it needs "fields": "*" on the target', async () => {
    const products = (fields: string[] | '*') => guard(policy({ version: 1, models: { 'product.product': { operations: ['read'], fields } } }))
    // A product's display name (and name search) includes its hidden default_code.
    expect(await denial(products(['name', 'categ_id']).authorize(read('product.product', domain([['id', 'in', ['FURN_8220']]]))))).toMatch(/name search on 'product.product'/)
    await expect(products('*').authorize(read('product.product', domain([['id', 'in', ['FURN_8220']]])))).resolves.toBeDefined()
    expect(await denial(guard().authorize(read('res.partner', domain([['id', 'child_of', 'Azure']]))))).toMatch(/with a text value runs Odoo's name search on 'res.partner'/)
    await expect(guard().authorize(read('res.partner', domain([['id', 'child_of', 7]])))).resolves.toBeDefined()
  })

  it('3. many2many group keys come as bare ids unless display_name is visible on the related model; one2many group keys are refused', async () => {
    const orders = policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: ['name', 'tag_ids', 'order_line'] } } })
    const authorized = await group(orders, 'sale.order', ['tag_ids'])
    expect(guard(orders).filterGroups(authorized, [{ count: 2, tag_ids: [3, 'VIP'] }])).toEqual([{ count: 2, tag_ids: 3 }])
    const named = policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: ['tag_ids'] }, 'crm.tag': { operations: ['read'], fields: ['display_name'] } } })
    expect(guard(named).filterGroups(await group(named, 'sale.order', ['tag_ids']), [{ count: 2, tag_ids: [3, 'VIP'] }])).toEqual([{ count: 2, tag_ids: [3, 'VIP'] }])
    expect(await denial(group(orders, 'sale.order', ['order_line']))).toMatch(/Cannot group by 'order_line': it is a one2many field/)
  })

  it('4. a many2one comes with its display name only where display_name is allowed (a readable name is not enough)', async () => {
    const p = (productFields: string[]) => policy({
      version: 1,
      models: { 'sale.order.line': { operations: ['read'], fields: ['name', 'product_id'] }, 'product.product': { operations: ['read'], fields: productFields } },
    })
    const line = { id: 4, name: 'Desk', product_id: [5, '[FURN_8220] Four Person Desk'] }
    const onlyName = p(['name'])
    expect(guard(onlyName).filterRecords(await guard(onlyName).authorize(read('sale.order.line')), [line])).toEqual([{ id: 4, name: 'Desk', product_id: 5 }])
    const displayName = p(['name', 'display_name'])
    expect(guard(displayName).filterRecords(await guard(displayName).authorize(read('sale.order.line')), [line])).toEqual([line])
  })

  it('5. one2many link, unlink, set, false and bare ids rewrite the lines\' link back: write on it (and unlink, but for 4)', async () => {
    const ordersOnly = policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['order_line'] } } })
    for (const value of [[[4, 7]], [7, 8], false, [], [[6, 0, [7]]], [[5]]]) {
      expect(await denial(update(ordersOnly, 'sale.order', { order_line: value })), JSON.stringify(value)).toMatch(/Model 'sale.order.line' is not allowed/)
    }
    // Re-parenting contacts through a hidden parent_id.
    const contacts = policy({ version: 1, models: { 'res.partner': { operations: ['read', 'write', 'unlink'], fields: ['name', 'child_ids'] } } })
    expect(await denial(update(contacts, 'res.partner', { child_ids: [[4, 9]] }))).toMatch(/'parent_id' of model 'res.partner' is not allowed.*written by 'child_ids'/)
    const withParent = policy({ version: 1, models: { 'res.partner': { operations: ['read', 'write'], fields: ['name', 'child_ids', 'parent_id'] } } })
    await expect(update(withParent, 'res.partner', { child_ids: [[4, 9]] })).resolves.toBeDefined()
    expect(await denial(update(withParent, 'res.partner', { child_ids: [9, 10] }))).toMatch(/Operation 'unlink' on model 'res.partner'/)
  })

  it('5. commands Odoo would read differently from the gateway are refused as invalid_values: ids mixed with commands, unknown or string codes, malformed commands', async () => {
    const lines = policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['order_line'] }, 'sale.order.line': { operations: ['read', 'create', 'write', 'unlink'], fields: '*' } } })
    for (const value of [[[4, 7], 8], [[7, 1]], [['0', 0, { name: 'x' }]], [[0.5, 0, { name: 'x' }]], [[4]], [[4, 0]], [[6, 0, ['7']]], [[]], [[4, 7, 0, 0]], 'x', true]) {
      await invalid(update(lines, 'sale.order', { order_line: value }))
    }
    await expect(update(lines, 'sale.order', { order_line: [[4, 7], [3, 8], [6, 0, [7]], [5], [false, 0, { name: 'x' }], [true, 7, { price_unit: 1 }]] })).resolves.toBeDefined()
  })

  it('5. a one2many whose link back Odoo does not name cannot be rewritten', async () => {
    const p = policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['order_line'] }, 'sale.order.line': { operations: ['read', 'write', 'unlink'], fields: '*' } } })
    const withoutLinkBack: MetadataSource = {
      async fieldsOf(model) {
        const fields = await metadata.fieldsOf(model)
        return model === 'sale.order' ? { ...fields, order_line: { type: 'one2many', relation: 'sale.order.line' } } : fields
      },
    }
    const request: ToolRequest = { tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { order_line: [[4, 7]] } }
    expect(await denial(createPolicyGuard(p, withoutLinkBack).authorize(request))).toMatch(/did not say which field of 'sale.order.line'/)
  })

  it('6. "*" leaves out fields pointing to a sensitive model, and many2many commands need the related model readable', async () => {
    const users = policy({ version: 1, models: { 'res.users': { operations: ['read', 'write'], fields: '*' } } })
    // Adding a user to the Settings group.
    expect(await denial(update(users, 'res.users', { groups_id: [[4, 2]] }))).toMatch(/'groups_id' of model 'res.users' is not allowed/)
    expect(await guard(users).filterFieldMetadata('res.users', METADATA['res.users']!)).not.toHaveProperty('groups_id')
    expect((await guard(users).authorize(read('res.users'))).readFields).not.toContain('groups_id')
    const tags = (extra: Record<string, unknown>) => policy({ version: 1, models: { 'sale.order': { operations: ['write'], fields: ['tag_ids'] }, ...extra } })
    for (const value of [[[4, 3]], [[3, 3]], [[6, 0, [3]]], [3], false]) {
      expect(await denial(update(tags({}), 'sale.order', { tag_ids: value })), JSON.stringify(value)).toMatch(/Model 'crm.tag' is not allowed/)
    }
    await expect(update(tags({ 'crm.tag': { operations: ['read'], fields: ['name'] } }), 'sale.order', { tag_ids: [[4, 3], [3, 4], [6, 0, [3]]] })).resolves.toBeDefined()
    expect(await denial(update(tags({ 'crm.tag': { operations: ['read'], fields: ['name'] } }), 'sale.order', { tag_ids: [[0, 0, { name: 'x' }]] }))).toMatch(/Operation 'create' on model 'crm.tag'/)
  })

  it('7. active_test: false needs active visible on every model the call reads records of', async () => {
    const archived = { active_test: false }
    expect(await denial(guard().authorize(read('res.partner', { context: archived })))).toMatch(/'active' of 'res.partner' is not allowed/)
    const withActive = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'active'] }, 'sale.order': { operations: ['read'], fields: ['name', 'partner_id', 'tag_ids'] } } })
    await expect(guard(withActive).authorize(read('res.partner', { context: archived }))).resolves.toBeDefined()
    // A model without an active field has nothing to hide.
    await expect(guard(withActive).authorize(read('sale.order', { fields: ['name'], context: archived }))).resolves.toBeDefined()
    // crm.tag has an active field the key may not see: reading tag_ids, grouping by it, or filtering through it reads tags.
    expect(await denial(guard(withActive).authorize(read('sale.order', { fields: ['tag_ids'], context: archived })))).toMatch(/'active' of 'crm.tag'/)
    expect(await denial(guard(withActive).authorize({ tool: 'aggregate_records', model: 'sale.order', operation: 'read', groupby: parseGroupBy(['tag_ids']), aggregates: [], context: archived }))).toMatch(/'crm.tag'/)
    expect(await denial(guard(withActive).authorize(read('sale.order', { fields: ['name'], context: archived, ...domain([['tag_ids', 'in', [1]]]) })))).toMatch(/'crm.tag'/)
    const partnerHidden = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] }, 'sale.order': { operations: ['read'], fields: ['name', 'partner_id'] } } })
    expect(await denial(guard(partnerHidden).authorize(read('sale.order', { fields: ['name'], context: archived, ...domain([['partner_id.name', '=', 'Azure']]) })))).toMatch(/'active' of 'res.partner'/)
  })

  it('8. an explicit order of visible fields is always sent, ending with id; a many2one sorts by its id unless its model sorts visibly', async () => {
    const order = async (p: Policy, model: string, text?: string) => (await guard(p).authorize(read(model, { order: parseOrder(text) }))).odooOrder
    const products = policy({ version: 1, models: { 'product.product': { operations: ['read'], fields: ['name', 'categ_id'] } } })
    // The default order 'default_code, name, id' without the hidden default_code.
    expect(await order(products, 'product.product')).toBe('name asc, id asc')
    expect(await order(SALES_POLICY, 'sale.order')).toBe('date_order desc, id desc')
    // res.users is not readable; res.partner sorts by complete_name, which the key may not see.
    expect(await order(SALES_POLICY, 'sale.order', 'user_id desc, partner_id')).toBe('user_id.id desc, partner_id.id asc, id')
    const partnersSortable = policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: ['name', 'partner_id'] }, 'res.partner': { operations: ['read'], fields: ['name', 'complete_name'] } } })
    expect(await order(partnersSortable, 'sale.order', 'partner_id desc')).toBe('partner_id desc, id')
    expect(await order(SALES_POLICY, 'sale.order', 'name')).toBe('name asc, id')
    const groups = await group(SALES_POLICY, 'sale.order', ['user_id', 'state', 'date_order:month'])
    expect(groups.odooOrder).toBe('user_id:min asc, state asc, date_order:month asc')
    expect(await denial(guard().authorize(read('sale.order', { order: parseOrder('order_line') })))).toMatch(/Cannot sort by 'order_line': it is a one2many field/)
    const p = policy({ version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'display_name'] } } })
    expect(await denial(guard(p).authorize(read('res.partner', { order: parseOrder('display_name') })))).toMatch(/'display_name'.*the order/)
  })
})

describe('writes through related fields', () => {
  it('needs write on the field a related field mirrors, and that field visible', async () => {
    const p = (partner: Record<string, unknown>) => policy({ version: 1, models: { 'sale.order': { operations: ['read', 'write'], fields: ['partner_id', 'partner_email'] }, 'res.partner': partner } })
    const request: ToolRequest = { tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { partner_email: 'x@example.com' } }
    expect(await denial(guard(p({ operations: ['read'], fields: ['email'] })).authorize(request))).toMatch(/Operation 'write' on model 'res.partner'/)
    expect(await denial(guard(p({ operations: ['read', 'write'], fields: ['name'] })).authorize(request))).toMatch(/'email' of model 'res.partner'/)
    await expect(guard(p({ operations: ['read', 'write'], fields: ['email'] })).authorize(request)).resolves.toBeDefined()
  })

  // Found by test/node/properties/policy.property.test.ts; fails until the guard follows a chain of related fields.
  it('needs write at the end of a chain of related fields (a related field mirroring a related field)', async () => {
    const chain: MetadataSource = {
      async fieldsOf(model) {
        const fields = await metadata.fieldsOf(model)
        if (model === 'sale.order') return { ...fields, partner_country_name: { type: 'char', related: 'partner_id.country_name' } }
        if (model === 'res.partner') return { ...fields, country_name: { type: 'char', related: 'country_id.name' } }
        return fields
      },
    }
    const p = policy({
      version: 1,
      models: {
        'sale.order': { operations: ['read', 'write'], fields: ['partner_id', 'partner_country_name'] },
        'res.partner': { operations: ['read', 'write'], fields: '*' },
        'res.country': { operations: ['read'], fields: '*' },
      },
    })
    const write = (model: string, values: Record<string, unknown>) => createPolicyGuard(p, chain).authorize({ tool: 'update_records', model, operation: 'write', ids: [1], values })
    // Directly, renaming a country through a partner is refused...
    expect(await denial(write('res.partner', { country_name: 'Absurdistan' }))).toMatch(/Operation 'write' on model 'res.country'/)
    // ...and through a sale order it writes the same country name.
    expect(await denial(write('sale.order', { partner_country_name: 'Absurdistan' }))).toMatch(/'res.country'/)
  })
})

describe('active_test and name searches', () => {
  // Found by test/node/properties/policy.property.test.ts; fails until name-search targets count as models the call reads.
  it('counts the model a name search reads among those whose active must be visible', async () => {
    const relatedActive: MetadataSource = {
      async fieldsOf(model) {
        const fields = await metadata.fieldsOf(model)
        // res.partner's active mirrors its company's (hidden): under "*" it is not visible.
        if (model === 'res.partner') return { ...fields, company_id: m2o('res.company'), active: { type: 'boolean', related: 'company_id.active' } }
        if (model === 'res.company') return { id: { type: 'integer' }, name: { type: 'char' }, active: { type: 'boolean' } }
        return fields
      },
    }
    const p = policy({ version: 1, models: { 'sale.order': { operations: ['read'], fields: '*' }, 'res.partner': { operations: ['read'], fields: '*' } } })
    const count = (terms: unknown[]) =>
      createPolicyGuard(p, relatedActive).authorize({ tool: 'count_records', model: 'sale.order', operation: 'read', domain: parseDomain(terms), context: { active_test: false } })
    // The dotted path reads partners, archived ones included: refused.
    expect(await denial(count([['partner_id.name', 'ilike', 'acme']]))).toMatch(/'active' of 'res.partner'/)
    // The name search reads the same partners.
    expect(await denial(count([['partner_id', 'ilike', 'acme']]))).toMatch(/'active' of 'res.partner'/)
  })
})
