/**
 * What the alert rules are told about a refusal by the policy (src/errors.ts, PolicyRefusal): the guard tags each
 * refusal of a model, of an operation, of fields, and nothing else; the audit trail carries the tag with the record,
 * made safe and bounded, without changing what the record hashes to.
 */
import { describe, expect, it } from 'vitest'
import { canonicalContent } from '../../../src/audit/chain'
import { AuditTrail, MAX_REFUSED_FIELDS } from '../../../src/audit/trail'
import { parseDomain } from '../../../src/domain/domain'
import { parseGroupBy, parseOrder } from '../../../src/domain/query-parts'
import { ToolError, type PolicyRefusal } from '../../../src/errors'
import { createPolicyGuard } from '../../../src/guard/policy-guard'
import type { ToolRequest } from '../../../src/guard/request'
import type { MetadataSource, ModelFields } from '../../../src/odoo/metadata'
import { parsePolicy, type Policy } from '../../../src/policy/schema'

const m2o = (relation: string) => ({ type: 'many2one', relation })
const METADATA: Record<string, ModelFields> = {
  'res.partner': {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, email: { type: 'char' }, vat: { type: 'char' },
    active: { type: 'boolean' }, parent_id: m2o('res.partner'), user_id: m2o('res.users'),
  },
  'sale.order': {
    id: { type: 'integer' }, name: { type: 'char' }, display_name: { type: 'char' }, amount_total: { type: 'monetary' }, partner_id: m2o('res.partner'),
    user_id: m2o('res.users'), order_line: { type: 'one2many', relation: 'sale.order.line', relation_field: 'order_id' },
    partner_email: { type: 'char', related: 'partner_id.email' },
  },
  'sale.order.line': { id: { type: 'integer' }, name: { type: 'text' }, price_unit: { type: 'float' }, order_id: m2o('sale.order') },
  'res.users': { id: { type: 'integer' }, name: { type: 'char' }, login: { type: 'char' } },
}
const metadata: MetadataSource = {
  async fieldsOf(model) {
    const fields = METADATA[model]
    if (!fields) throw new Error(`unknown model ${model}`)
    return fields
  },
  async defaultOrderOf() {
    return null
  },
}

function policy(document: unknown): Policy {
  const parsed = parsePolicy(document)
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'))
  return parsed.policy
}

const POLICY = policy({
  version: 1,
  models: {
    'sale.order': { operations: ['read', 'write'], fields: ['name', 'amount_total', 'partner_id', 'user_id', 'order_line', 'partner_email'] },
    'sale.order.line': { operations: ['read'], fields: ['name'] },
    'res.partner': { operations: ['read', 'write'], fields: ['name', 'parent_id'] },
  },
})

const read = (model: string, extra: Partial<ToolRequest> = {}): ToolRequest => ({ tool: 'search_records', model, operation: 'read', ...extra })

/** The refusal the guard tagged a `policy_denied` with (undefined when untagged). */
async function refusalOf(request: ToolRequest, p: Policy | null = POLICY): Promise<PolicyRefusal | undefined> {
  try {
    await createPolicyGuard(p, metadata).authorize(request)
  } catch (error) {
    expect(error).toBeInstanceOf(ToolError)
    expect((error as ToolError).code).toBe('policy_denied')
    return (error as ToolError).refusal
  }
  throw new Error('expected the guard to refuse')
}

describe('the guard tags what it refused', () => {
  it('a model: not in the policy, reached through a path, or no policy at all', async () => {
    expect(await refusalOf(read('hr.employee'))).toEqual({ kind: 'model', model: 'hr.employee' })
    expect(await refusalOf(read('sale.order', { domain: parseDomain([['user_id.login', '=', 'admin']]) }))).toEqual({
      kind: 'model',
      model: 'res.users',
      via: "'user_id' in the domain",
    })
    expect(await refusalOf(read('res.partner'), null)).toEqual({ kind: 'model', model: 'res.partner', noPolicy: true })
    // A name search into a model the policy does not list refuses that model.
    expect(await refusalOf(read('sale.order', { domain: parseDomain([['user_id', 'ilike', 'admin']]) }))).toMatchObject({
      kind: 'model',
      model: 'res.users',
    })
  })

  it('an operation, on the model called or one a write reaches', async () => {
    expect(await refusalOf({ tool: 'delete_records', model: 'sale.order', operation: 'unlink', ids: [1] })).toEqual({ kind: 'operation', model: 'sale.order', operation: 'unlink' })
    expect(await refusalOf({ tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { order_line: [[0, 0, { name: 'x' }]] } })).toEqual({
      kind: 'operation',
      model: 'sale.order.line',
      operation: 'create',
      via: "'order_line' of 'sale.order' (command 0)",
    })
  })

  it('fields, wherever the call used them, on the model they belong to', async () => {
    expect(await refusalOf(read('res.partner', { fields: ['name', 'email', 'vat'] }))).toEqual({ kind: 'field', model: 'res.partner', fields: ['email', 'vat'], where: 'the fields to return' })
    expect(await refusalOf(read('sale.order', { domain: parseDomain([['partner_id.email', '=', 'a@b.c']]) }))).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: ['email'],
      where: "the domain as 'partner_id.email'",
    })
    expect(await refusalOf(read('res.partner', { order: parseOrder('vat desc') }))).toEqual({ kind: 'field', model: 'res.partner', fields: ['vat'], where: 'the order' })
    expect(await refusalOf({ tool: 'aggregate_records', model: 'res.partner', operation: 'read', groupby: parseGroupBy(['user_id']) })).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: ['user_id'],
      where: 'the groupby',
    })
    expect(await refusalOf({ tool: 'update_records', model: 'res.partner', operation: 'write', ids: [1], values: { vat: 'BE0' } })).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: ['vat'],
      where: 'the values to write',
    })
    // A related field writes the field it mirrors.
    expect(await refusalOf({ tool: 'update_records', model: 'sale.order', operation: 'write', ids: [1], values: { partner_email: 'a@b.c' } })).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: ['email'],
      where: "the values to write, through related field 'partner_email' of 'sale.order' (it mirrors 'partner_id.email')",
    })
    expect(await refusalOf(read('res.partner', { fields: ['name'], context: { active_test: false } }))).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: ['active'],
      where: "the context 'active_test: false'",
    })
  })

  it('nothing for the other refusals: a name search, a context key, an operator', async () => {
    expect(await refusalOf(read('sale.order', { domain: parseDomain([['partner_id', 'ilike', 'azure']]) }))).toBeUndefined()
    expect(await refusalOf(read('sale.order', { context: { uid: 1 } as never }))).toBeUndefined()
    expect(await refusalOf(read('sale.order', { domain: parseDomain([['amount_total', 'like', '1']]) }))).toBeUndefined()
  })
})

describe('the audit trail carries it to the alert rules', () => {
  const trail = () => new AuditTrail({ requestId: 'req-1', ip: '203.0.113.5', userAgent: null, redactDomains: false })

  it('with a policy_denied refusal only, its names made safe and bounded', () => {
    const names = Array.from({ length: 30 }, (_, index) => `x_${index}\u001b[31m`)
    const audit = trail()
    audit.failed(new ToolError('refused', 'policy_denied', { kind: 'field', model: 'res.partner', fields: names, where: 'the values to write' }))
    expect(audit.record).toMatchObject({ outcome: 'denied', code: 'policy_denied' })
    expect(audit.record.refusal).toEqual({
      kind: 'field',
      model: 'res.partner',
      fields: names.slice(0, MAX_REFUSED_FIELDS).map((name) => name.replace('\u001b', '\ufffd')),
      where: 'the values to write',
      fieldCount: 30,
    })
    const other = trail()
    other.failed(new ToolError('refused', 'invalid_values', { kind: 'model', model: 'res.partner' }))
    expect(other.record.refusal).toBeUndefined()
    // The first outcome wins, and the refusal goes with it only.
    const late = trail()
    late.outcome('denied', 'rate_limited')
    late.failed(new ToolError('refused', 'policy_denied', { kind: 'model', model: 'res.partner' }))
    expect(late.record).toMatchObject({ code: 'rate_limited' })
    expect(late.record.refusal).toBeUndefined()
  })

  it('without changing what the record hashes to', () => {
    const audit = trail()
    audit.failed(new ToolError('refused', 'policy_denied', { kind: 'operation', model: 'sale.order', operation: 'write' }))
    const { refusal, ...stored } = audit.record
    expect(refusal).toBeDefined()
    expect(canonicalContent('key_1', 1, audit.record)).toBe(canonicalContent('key_1', 1, stored))
  })
})
