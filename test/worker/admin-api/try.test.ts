/**
 * POST /admin/v1/keys/:id/try (`odoo-mcp keys try`): "would this call be allowed, and why not".
 *
 * Property, against the reference that matters (the real call through /mcp): for generated policies and calls,
 *   - a call `try` allows is not refused by the gateway when made for real (it succeeds, or Odoo itself answers);
 *   - a call `try` refuses at the tool, policy or argument-content stage is refused for real with the same message;
 *   - a call refused by the argument schema is refused for real too.
 * And `try` reads no Odoo data: the simulator's record reads do not move.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { callTool, createTestKey, sim } from '../helpers'
import { admin } from './client'

type Verdict = { allowed: boolean; tool: string; stage?: string; reason?: string; details?: string[]; odoo_request?: Record<string, unknown>; checked_when_run?: string[] }

const FIELDS = ['name', 'email', 'city', 'state', 'amount_total', 'partner_id', 'date_order', 'display_name']
const modelEntry = fc.record({
  operations: fc.subarray(['read', 'create', 'write', 'unlink'] as const, { minLength: 1 }),
  fields: fc.oneof(fc.constant('*' as const), fc.subarray(FIELDS)),
})
const policyV1 = fc.record({
  version: fc.constant(1),
  models: fc.dictionary(fc.constantFrom('res.partner', 'sale.order'), modelEntry, { minKeys: 0, maxKeys: 2 }),
})
// Version 2: record filters and masks on top (masks only on fields the entry lists, as the schema requires).
const modelEntryV2 = modelEntry.chain((entry) =>
  fc.record({
    operations: fc.constant(entry.operations),
    fields: fc.constant(entry.fields),
    filter: fc.constantFrom([['id', '>', 3]], [['create_uid', '=', '$uid']], [['name', 'ilike', 'a']]),
    mask: (entry.fields === '*' ? fc.constant(['email', 'name']) : fc.constant(entry.fields.filter((name) => name === 'email' || name === 'name')))
      .chain((maskable) => fc.dictionary(fc.constantFrom(...(maskable.length ? maskable : ['name'])), fc.constantFrom('partial', 'last4', 'hash', 'redact'), { maxKeys: maskable.length ? 2 : 0 })),
  }, { requiredKeys: ['operations', 'fields'] }),
)
const policyV2 = fc.record({
  version: fc.constant(2),
  models: fc.dictionary(fc.constantFrom('res.partner', 'sale.order'), modelEntryV2, { minKeys: 0, maxKeys: 2 }),
})
const policy = fc.oneof(policyV1, policyV2)

const model = fc.constantFrom('res.partner', 'sale.order', 'hr.employee')
const field = fc.constantFrom(...FIELDS, 'no_such_field')
const domain = fc.oneof(
  fc.constant([]),
  fc.tuple(field, fc.constantFrom('=', 'ilike', '!=')).map(([name, op]) => [[name, op, 'a']]),
  fc.constant([['partner_id.email', 'ilike', '@']]),
  fc.constant([['bogus']]),
)
// Writes go to ids that do not exist: allowed ones reach Odoo (MissingError) and change nothing.
const call = fc.oneof(
  fc.record({ tool: fc.constant('search_records'), arguments: fc.record({ model, domain, fields: fc.subarray(FIELDS, { minLength: 1 }), limit: fc.constant(2) }, { requiredKeys: ['model'] }) }),
  fc.record({ tool: fc.constant('read_records'), arguments: fc.record({ model, ids: fc.constant([1]), fields: fc.subarray(FIELDS, { minLength: 1 }) }, { requiredKeys: ['model', 'ids'] }) }),
  fc.record({ tool: fc.constant('count_records'), arguments: fc.record({ model, domain }, { requiredKeys: ['model'] }) }),
  fc.record({ tool: fc.constant('aggregate_records'), arguments: fc.record({ model, groupby: fc.subarray(FIELDS, { minLength: 1, maxLength: 2 }) }) }),
  fc.record({ tool: fc.constant('update_records'), arguments: fc.record({ model, ids: fc.constant([987654]), values: fc.dictionary(field, fc.constant('x'), { minKeys: 1, maxKeys: 2 }) }) }),
  fc.record({ tool: fc.constant('delete_records'), arguments: fc.record({ model, ids: fc.constant([987654]) }) }),
  fc.record({ tool: fc.constant('describe_model'), arguments: fc.record({ model }) }),
  // Schema refusals: a wrong type, a missing argument.
  fc.record({ tool: fc.constant('search_records'), arguments: fc.record({ model, limit: fc.constant('ten') }) }),
  fc.record({ tool: fc.constant('read_records'), arguments: fc.record({ model }) }),
)

async function tryCall(id: string, body: Record<string, unknown>): Promise<Verdict> {
  const answer = await admin<Verdict>('POST', `/keys/${id}/try`, body)
  expect(answer.status, JSON.stringify(answer.body)).toBe(200)
  return answer.body
}

describe('keys try', () => {
  it('answers exactly as the real call would: allowed calls are not refused by the gateway, refused ones with the same message', async () => {
    await fc.assert(
      fc.asyncProperty(policy, fc.array(call, { minLength: 1, maxLength: 4 }), async (document, calls) => {
        const { id, key } = await createTestKey({ policy: document })
        for (const one of calls) {
          const verdict = await tryCall(id, one)
          const real = await callTool(key, one.tool, one.arguments)
          const context = `${JSON.stringify(document)} ${JSON.stringify(one)} → ${JSON.stringify(verdict)} / ${real.text}`
          if (verdict.allowed) {
            // Not refused by the gateway: a result, or Odoo's own answer (a record rule, a missing record), or, where
            // try said so, ids outside a record filter (a check on data, made when the call runs).
            if (real.result?.isError) expect(real.text, context).toMatch(verdict.checked_when_run?.some((check) => check.includes('answer as missing')) ? /^(Odoo |Record does not exist)/ : /^Odoo /)
          } else if (verdict.stage === 'arguments' && verdict.details) {
            expect(real.result?.isError ?? real.body.error !== undefined, context).toBe(true)
          } else {
            expect(real.result?.isError, context).toBe(true)
            expect(real.text, context).toBe(verdict.reason)
          }
        }
      }),
      { numRuns: 25 },
    )
  }, 120_000)

  it('says what the gateway would ask Odoo for, reading no record', async () => {
    const { id } = await createTestKey({ policy: { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'city'] } } } })
    const marker = `Brussels-${crypto.randomUUID()}`
    const verdict = await tryCall(id, { tool: 'search_records', arguments: { model: 'res.partner', domain: [['city', '=', marker]], limit: 5 } })
    expect(verdict).toMatchObject({ allowed: true, tool: 'search_records', odoo_request: { model: 'res.partner', operation: 'read', fields: ['name', 'city', 'id'], limit: 5 } })
    expect(String(verdict.odoo_request!.order)).toMatch(/\bid\b/)
    // The search itself never reached Odoo (only metadata may have): no call carried its domain.
    expect(await sim.callsContaining(marker)).toEqual([])
    // (The filter works: a real search with the marker is found.)
    const { key } = await createTestKey({ policy: { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name', 'city'] } } } })
    await callTool(key, 'search_records', { model: 'res.partner', domain: [['city', '=', marker]] })
    expect((await sim.callsContaining(marker)).length).toBeGreaterThan(0)
    const hidden = await tryCall(id, { tool: 'search_records', arguments: { model: 'res.partner', domain: [['email', 'ilike', '@']] } })
    expect(hidden).toMatchObject({ allowed: false, stage: 'policy' })
    expect(hidden.reason).toMatch(/email/)
    const write = await tryCall(id, { tool: 'update_records', arguments: { model: 'res.partner', ids: [1], values: { name: 'x' } } })
    expect(write).toMatchObject({ allowed: false, stage: 'tool' })
    expect(write.reason).toMatch(/update_records is not available/)
  })

  it('shows the record filter ANDed into the domain, and what is left to check when the call runs', async () => {
    const { id } = await createTestKey({
      policy: { version: 2, models: { 'sale.order': { operations: ['read', 'write'], fields: ['name', 'note', 'state'], filter: [['state', '=', 'sale']] } } },
    })
    const search = await tryCall(id, { tool: 'search_records', arguments: { model: 'sale.order', domain: [['name', 'ilike', 'S0']] } })
    expect(search).toMatchObject({ allowed: true, odoo_request: { domain: ['&', ['name', 'ilike', 'S0'], ['state', '=', 'sale']] } })
    const write = await tryCall(id, { tool: 'update_records', arguments: { model: 'sale.order', ids: [4, 5], values: { note: 'x' } } })
    expect(write.allowed).toBe(true)
    expect(write.checked_when_run).toEqual([expect.stringMatching(/^ids 4, 5 of sale.order must be inside its record filter \[\["state","=","sale"\]\]/)])
    const move = await tryCall(id, { tool: 'update_records', arguments: { model: 'sale.order', ids: [4], values: { state: 'draft' } } })
    expect(move).toMatchObject({ allowed: false, stage: 'policy', reason: expect.stringMatching(/decides which records this API key may reach/) })
  })

  it('judges the key itself and its IP rules for a given address', async () => {
    const policyWithIp = { version: 1, models: { 'res.partner': { operations: ['read'], fields: ['name'] } }, ip: { allow: ['203.0.113.0/24'] } }
    const { id } = await createTestKey({ policy: policyWithIp })
    const args = { tool: 'count_records', arguments: { model: 'res.partner' } }
    expect(await tryCall(id, { ...args, ip: '203.0.113.9' })).toMatchObject({ allowed: true })
    expect(await tryCall(id, { ...args, ip: '198.51.100.1' })).toMatchObject({ allowed: false, stage: 'ip' })
    const revoked = await createTestKey({ policy: policyWithIp, revokedAt: Date.now() - 1000 })
    expect(await tryCall(revoked.id, args)).toMatchObject({ allowed: false, stage: 'key', reason: expect.stringMatching(/revoked/) })
    const none = await createTestKey({})
    expect(await tryCall(none.id, args)).toMatchObject({ allowed: false, stage: 'tool', reason: expect.stringMatching(/no policy/) })
    expect(await tryCall(id, { tool: 'drop_database', arguments: {} })).toMatchObject({ allowed: false, stage: 'tool', reason: expect.stringMatching(/no tool 'drop_database'/) })
  })

  it('refuses a bad request with a clear 4xx', async () => {
    const { id } = await createTestKey({ policy: { version: 1, models: {} } })
    expect((await admin('POST', `/keys/${id}/try`, { arguments: {} })).body.error).toBe('invalid_body')
    expect((await admin('POST', `/keys/${id}/try`, { tool: 'count_records', ip: 'not-an-ip' })).body.details).toEqual(['ip: must be an IPv4 or IPv6 address'])
    expect((await admin('POST', '/keys/key_0000000000000000/try', { tool: 'count_records' })).status).toBe(404)
  })
})
