/**
 * Adversarial suite for the per-key policy: an agent with a narrow key (as the Odoo admin, so Odoo itself would
 * allow everything) tries to reach hidden fields and models by every path we know. Each attempt must end in a
 * clear error naming the problem AND the raw HTTP response must not contain any hidden value.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey } from '../helpers'
import { FULL_ACCESS } from './policies'

/** The sales-agent key, bound to admin so that only the policy stands in the way. */
const NARROW_POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'date_order', 'amount_total', 'state', 'partner_id', 'user_id', 'order_line'] },
    'res.partner': { operations: ['read', 'create', 'write'], fields: ['name', 'city', 'country_id', 'is_company', 'parent_id', 'child_ids'] },
    'res.country': { operations: ['read'], fields: ['name', 'code'] },
  },
}

let narrow: string
/**
 * Every hidden string value in the demo data: partner emails, phones, VAT numbers, references, streets; user logins.
 * (User names are not hidden: in Odoo a user's name is its partner's name, which this key may read.)
 */
let hiddenValues: string[] = []

beforeAll(async () => {
  narrow = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: NARROW_POLICY })).key
  const full = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })).key
  const partners = await callTool(full, 'search_records', { model: 'res.partner', fields: ['email', 'phone', 'vat', 'ref', 'street'], limit: 500 })
  const users = await callTool(full, 'search_records', { model: 'res.users', fields: ['login'], limit: 500 })
  const values = new Set<string>()
  for (const row of [
    ...(partners.result!.structuredContent as { records: Record<string, unknown>[] }).records,
    ...(users.result!.structuredContent as { records: Record<string, unknown>[] }).records,
  ]) {
    for (const [key, value] of Object.entries(row)) {
      // Short values ("admin", "demo") would also match innocent text such as tool names; keep distinctive ones.
      if (key !== 'id' && typeof value === 'string' && value.length >= 6) values.add(value)
    }
  }
  // A value the key may legitimately see (a partner name equal to a street, say) is not a leak.
  const visible = await callTool(narrow, 'search_records', { model: 'res.partner', fields: ['name', 'city'], limit: 500 })
  hiddenValues = [...values].filter((value) => !visible.raw.includes(value))
  expect(hiddenValues.length).toBeGreaterThan(40)
  expect(hiddenValues.some((v) => v.includes('@'))).toBe(true)
})

type Attempt = [label: string, tool: string, args: Record<string, unknown>, expected: RegExp]

const partnerSearch = (domain: unknown, extra: Record<string, unknown> = {}) => ({ model: 'res.partner', domain, fields: ['name'], ...extra })
const orderSearch = (domain: unknown, extra: Record<string, unknown> = {}) => ({ model: 'sale.order', domain, fields: ['name'], ...extra })
const HIDDEN = (field: string, model = 'res.partner') => new RegExp(`Field '${field}' of model '${model.replace('.', '\\.')}' is not allowed`)

const ATTEMPTS: Attempt[] = [
  // Domain inference: filtering answers yes/no questions about a hidden value.
  ['equality on a hidden field', 'search_records', partnerSearch([['email', '=', 'info@yourcompany.com']]), HIDDEN('email')],
  ['ilike on a hidden field', 'search_records', partnerSearch([['email', 'ilike', '@']]), HIDDEN('email')],
  ['=like prefix probing', 'search_records', partnerSearch([['vat', '=like', 'BE0%']]), HIDDEN('vat')],
  ['in-list probing', 'search_records', partnerSearch([['phone', 'in', ['+32 2 290 34 90']]]), HIDDEN('phone')],
  ['set/unset probing', 'search_records', partnerSearch([['vat', '!=', false]]), HIDDEN('vat')],
  ['range probing (dichotomy)', 'count_records', { model: 'res.partner', domain: [['ref', '>', 'M']] }, HIDDEN('ref')],
  ['negated leaf', 'search_records', partnerSearch(['!', ['email', '=', false]]), HIDDEN('email')],
  ['one side of an or', 'search_records', partnerSearch(['|', ['name', '=', 'x'], ['email', 'ilike', 'a']]), HIDDEN('email')],
  ['deep inside & | !', 'count_records', { model: 'res.partner', domain: ['&', ['is_company', '=', true], '!', '|', ['city', '=', 'x'], ['street', 'ilike', 'a']] }, HIDDEN('street')],
  ['not ilike', 'search_records', partnerSearch([['email', 'not ilike', 'example']]), HIDDEN('email')],
  ['count with a hidden filter', 'count_records', { model: 'res.partner', domain: [['email', 'ilike', 'yourcompany']] }, HIDDEN('email')],
  ['aggregate with a hidden filter', 'aggregate_records', { model: 'res.partner', domain: [['vat', 'ilike', 'BE']], groupby: ['is_company'] }, HIDDEN('vat')],
  // Dotted paths are checked hop by hop against the policy of each model.
  ['dotted path to a hidden field', 'search_records', orderSearch([['partner_id.email', 'ilike', '@']]), HIDDEN('email')],
  ['two hops to a hidden field', 'search_records', orderSearch([['partner_id.parent_id.vat', '!=', false]]), HIDDEN('vat')],
  ['dotted path into a model without policy', 'search_records', orderSearch([['user_id.login', '=', 'admin']]), /Model 'res\.users' is not allowed.*'user_id'/],
  ['dotted path through a hidden field', 'search_records', partnerSearch([['user_id.name', '=', 'x']]), HIDDEN('user_id')],
  ['dotted path into order lines', 'search_records', orderSearch([['order_line.price_unit', '>', 0]]), /Model 'sale\.order\.line' is not allowed/],
  ['path through a non-relational field', 'search_records', partnerSearch([['name.email', '=', 'x']]), /'name' of model 'res\.partner' is not a relational field/],
  ['too deep a path', 'search_records', partnerSearch([['parent_id.parent_id.parent_id.parent_id.email', '=', 'x']]), /deeper than 4 levels/],
  // Text on a relational field makes Odoo name-search the related model (which matches email, VAT, ref on partners).
  ['name search through a many2one', 'search_records', orderSearch([['partner_id', 'ilike', 'yourcompany.com']]), /runs Odoo's name search/],
  ['name search through parent_id', 'search_records', partnerSearch([['parent_id', '=', 'Azure Interior']]), /runs Odoo's name search/],
  ['name search through child_ids', 'count_records', { model: 'res.partner', domain: [['child_ids', 'ilike', '@example.com']] }, /runs Odoo's name search/],
  ['display_name search', 'search_records', partnerSearch([['display_name', 'ilike', '@']]), HIDDEN('display_name')],
  // Ordering is an oracle too.
  ['order by a hidden field', 'search_records', partnerSearch([], { order: 'email' }), HIDDEN('email')],
  ['order by a hidden field, second term', 'search_records', partnerSearch([], { order: 'name asc, vat desc' }), HIDDEN('vat')],
  ['order injection', 'search_records', partnerSearch([], { order: 'name, (SELECT password FROM res_users LIMIT 1)' }), /Invalid order/],
  // Grouping and aggregates.
  ['groupby a hidden field', 'aggregate_records', { model: 'res.partner', groupby: ['email'] }, HIDDEN('email')],
  ['groupby a hidden field with granularity', 'aggregate_records', { model: 'sale.order', groupby: ['validity_date:month'] }, HIDDEN('validity_date', 'sale.order')],
  ['aggregate of a hidden field', 'aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['amount_untaxed:sum'] }, HIDDEN('amount_untaxed', 'sale.order')],
  ['count_distinct of a hidden field', 'aggregate_records', { model: 'res.partner', groupby: ['is_company'], aggregates: ['vat:count_distinct'] }, HIDDEN('vat')],
  ['aggregate alias syntax', 'aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['total:sum(amount_untaxed)'] }, /Invalid aggregate/],
  // Asking for fields.
  ['fields: [] (Odoo would return all fields)', 'search_records', { model: 'res.partner', fields: [] }, /at least one field/],
  ['hidden field asked for', 'search_records', { model: 'res.partner', fields: ['name', 'email'] }, HIDDEN('email')],
  ['several hidden fields asked for', 'read_records', { model: 'res.partner', ids: [1], fields: ['vat', 'phone'] }, /Fields 'vat', 'phone' of model 'res\.partner' are not allowed/],
  ['hidden field of orders', 'read_records', { model: 'sale.order', ids: [1], fields: ['note'] }, HIDDEN('note', 'sale.order')],
  ['technical field asked for', 'search_records', { model: 'res.partner', fields: ['write_uid'] }, HIDDEN('write_uid')],
  // Models and operations.
  ['model without policy', 'search_records', { model: 'res.users', fields: ['login'] }, /Model 'res\.users' is not allowed/],
  ['describe a model without policy', 'describe_model', { model: 'res.users' }, /Model 'res\.users' is not allowed/],
  ['sensitive model', 'search_records', { model: 'ir.config_parameter', fields: ['key', 'value'] }, /Model 'ir\.config_parameter' is not allowed/],
  ['API keys model', 'count_records', { model: 'res.users.apikeys' }, /Model 'res\.users\.apikeys' is not allowed/],
  ['write on a read-only model', 'update_records', { model: 'sale.order', ids: [1], values: { name: 'x' } }, /Operation 'write' on model 'sale\.order' is not allowed/],
  // Not listed to this key at all (src/mcp/availability.ts): the call says why.
  ['delete without unlink', 'delete_records', { model: 'res.partner', ids: [1] }, /delete_records is not available: this API key's policy allows 'unlink' on no model/],
  // Listed (the key may create and write partners), so these reach the guard, which refuses the model's operation.
  ['create on a read-only model', 'create_record', { model: 'sale.order', values: { name: 'x' } }, /Operation 'create' on model 'sale\.order' is not allowed/],
  ['create on a model without policy', 'create_record', { model: 'res.users', values: { name: 'x', login: 'x' } }, /Model 'res\.users' is not allowed/],
  // Writes: mass assignment and nested commands.
  ['create with a hidden field', 'create_record', { model: 'res.partner', values: { name: 'x', email: 'attacker@example.com' } }, HIDDEN('email')],
  ['update with a hidden field', 'update_records', { model: 'res.partner', ids: [1], values: { vat: 'BE0000000000' } }, HIDDEN('vat')],
  ['nested create with a hidden field', 'update_records', { model: 'res.partner', ids: [1], values: { child_ids: [[0, 0, { name: 'x', email: 'a@b.c' }]] } }, HIDDEN('email')],
  ['nested update with a hidden field', 'update_records', { model: 'res.partner', ids: [1], values: { child_ids: [[1, 7, { phone: '1' }]] } }, HIDDEN('phone')],
  ['nested delete without unlink', 'update_records', { model: 'res.partner', ids: [1], values: { child_ids: [[2, 7]] } }, /Operation 'unlink' on model 'res\.partner'/],
  // Context: only lang, tz, active_test.
  ['context allowed_company_ids', 'search_records', { model: 'res.partner', fields: ['name'], context: { allowed_company_ids: [1, 2] } }, /allowed_company_ids/],
  ['context uid override', 'search_records', { model: 'res.partner', fields: ['name'], context: { uid: 1 } }, /uid/],
  ['context active_test plus extra', 'count_records', { model: 'res.partner', context: { active_test: false, force_company: 1 } }, /force_company/],
  // Malformed, unknown or oversized filters.
  ['unknown operator', 'search_records', partnerSearch([['name', 'inselect', ['SELECT 1', []]]]), /unknown operator "inselect"/],
  ['any on a field that is not relational', 'search_records', partnerSearch([['name', 'any', [['email', '=', 'x']]]]), /operator 'any' cannot be used on a char field/],
  ['any into a hidden field', 'search_records', orderSearch([['partner_id', 'any', [['email', 'ilike', '@']]]]), HIDDEN('email')],
  ['SQL-looking operator', 'search_records', partnerSearch([['name', '= 1 OR 1=1 --', 'x']]), /unknown operator/],
  ['oversized domain', 'count_records', { model: 'res.partner', domain: Array.from({ length: 201 }, () => ['name', '=', 'x']) }, /more than 200 terms|200/],
  ['nested list value', 'search_records', partnerSearch([['name', 'in', [['email']]]]), /values must be/],
  ['object value', 'search_records', partnerSearch([['name', '=', { email: 'x' }]]), /values must be/],
  ['domain as a Python string', 'search_records', partnerSearch("[('email','=','x')]"), /JSON array|domain/],
]

describe(`policy attacks (${env.ODOO_PROTOCOL})`, () => {
  it('has at least 40 distinct attempts', () => {
    expect(new Set(ATTEMPTS.map((a) => a[0])).size).toBe(ATTEMPTS.length)
    expect(ATTEMPTS.length).toBeGreaterThanOrEqual(40)
  })

  it.each(ATTEMPTS)('refuses %s', async (_label, tool, args, expected) => {
    const result = await callTool(narrow, tool, args)
    expect(result.result?.isError ?? Boolean(result.body.error), result.raw).toBe(true)
    expect(result.text || result.body.error?.message).toMatch(expected)
    for (const value of hiddenValues) expect(result.raw, `leaked ${value}`).not.toContain(value)
  })

  it('refuses, at the guard, a delete on a model without unlink for a key that may delete elsewhere', async () => {
    const policy = { version: 1, models: { 'res.partner': { operations: ['read', 'unlink'], fields: ['name'] }, 'sale.order': { operations: ['read'], fields: ['name'] } } }
    const key = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy })).key
    for (const model of ['sale.order', 'res.users']) {
      const result = await callTool(key, 'delete_records', { model, ids: [1] })
      expect(result.result?.isError, result.raw).toBe(true)
      expect(result.text).toMatch(model === 'sale.order' ? /Operation 'unlink' on model 'sale\.order' is not allowed/ : /Model 'res\.users' is not allowed/)
    }
    const stillThere = await callTool(key, 'read_records', { model: 'sale.order', ids: [1], fields: ['name'] })
    expect(stillThere.result?.isError, stillThere.raw).toBeUndefined()
    expect(stillThere.result?.structuredContent).toMatchObject({ records: [{ id: 1 }] })
  })

  it('returns only allowed fields when fields are omitted', async () => {
    const result = await callTool(narrow, 'search_records', { model: 'res.partner', limit: 500 })
    const { records } = result.result!.structuredContent as { records: Record<string, unknown>[] }
    expect(records.length).toBeGreaterThan(10)
    const keys = new Set(records.flatMap((r) => Object.keys(r)))
    expect([...keys].sort()).toEqual(['child_ids', 'city', 'country_id', 'id', 'is_company', 'name', 'parent_id'])
    for (const value of hiddenValues) expect(result.raw).not.toContain(value)
  })

  it('describes only allowed fields', async () => {
    const result = await callTool(narrow, 'describe_model', { model: 'res.partner' })
    const { fields } = result.result!.structuredContent as { fields: Record<string, unknown> }
    expect(Object.keys(fields).sort()).toEqual(['child_ids', 'city', 'country_id', 'id', 'is_company', 'name', 'parent_id'])
    expect(result.raw).not.toMatch(/"email"|"vat"|"phone"/)
  })

  it('lists only the models of the policy', async () => {
    const result = await callTool(narrow, 'list_models', {})
    const { models } = result.result!.structuredContent as { models: { model: string }[] }
    expect(models.map((m) => m.model).sort()).toEqual(['res.country', 'res.partner', 'sale.order'])
  })

  it('returns a many2one as a bare id unless the key may see the related display_name (not just name)', async () => {
    const result = await callTool(narrow, 'search_records', { model: 'sale.order', fields: ['name', 'user_id', 'partner_id'], limit: 5 })
    const { records } = result.result!.structuredContent as { records: { user_id: unknown; partner_id: unknown }[] }
    expect(records.length).toBeGreaterThan(0)
    for (const record of records) {
      expect(typeof record.user_id === 'number' || record.user_id === false).toBe(true)
      // res.partner is readable with 'name' but not 'display_name', which Odoo composes from more than the name.
      expect(typeof record.partner_id).toBe('number')
    }
    for (const value of hiddenValues) expect(result.raw).not.toContain(value)
  })

  it('does the same for groups of aggregate_records', async () => {
    const result = await callTool(narrow, 'aggregate_records', { model: 'sale.order', groupby: ['user_id'], aggregates: ['amount_total:sum'] })
    const { groups } = result.result!.structuredContent as { groups: { user_id: unknown }[] }
    expect(groups.length).toBeGreaterThan(0)
    for (const group of groups) expect(Array.isArray(group.user_id)).toBe(false)
    for (const value of hiddenValues) expect(result.raw).not.toContain(value)
  })

  it('creates with allowed fields and reads back only allowed fields', async () => {
    const created = await callTool(narrow, 'create_record', { model: 'res.partner', values: { name: 'Narrow Key Partner', city: 'Ghent' } })
    const { id } = created.result!.structuredContent as { id: number }
    const read = await callTool(narrow, 'read_records', { model: 'res.partner', ids: [id] })
    const { records } = read.result!.structuredContent as { records: Record<string, unknown>[] }
    expect(records[0]).toMatchObject({ id, name: 'Narrow Key Partner', city: 'Ghent' })
    expect(Object.keys(records[0]!)).not.toContain('email')
  })

  it('allows what the policy allows (the guard is not simply refusing everything)', async () => {
    const result = await callTool(narrow, 'search_records', {
      model: 'sale.order',
      domain: [['partner_id.country_id.code', '!=', false], ['state', 'in', ['sale', 'draft']]],
      fields: ['name', 'amount_total'],
      order: 'amount_total desc',
      limit: 3,
    })
    expect(result.result?.isError, result.text).toBeFalsy()
  })
})
