/**
 * Refusals by the policy, end to end (issue 13): through the Worker against the simulated Odoo, each alert says what
 * the policy refused. A refused field raises field_denied (not model_denied, the key may use the model); a refused
 * model or operation raises model_denied naming that model, which is not always the one called; other refusals raise
 * neither. The audit records keep the code `policy_denied` and their chain verifies: what the alerts read is not
 * part of the stored, hashed record.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { verifyChain } from '../../../src/audit/chain'
import { GENESIS_HASH } from '../../../src/audit/record'
import { createTestKey, postMcp, sim } from '../helpers'
import { chainRecords, flushAudit } from '../audit/helpers'

const POLICY = {
  version: 1,
  models: {
    'sale.order': { operations: ['read'], fields: ['name', 'state', 'amount_total', 'partner_id', 'user_id'] },
    'res.partner': { operations: ['read'], fields: ['name', 'city'] },
  },
  rateLimit: { perMinute: 600, burst: 100 },
}

const call = (name: string, args: Record<string, unknown>) => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })

/** Sends one tool call and checks the policy refused it. */
async function refused(key: string, name: string, args: Record<string, unknown>): Promise<void> {
  const response = await postMcp(key, call(name, args))
  const body = await response.text()
  expect(body, body).toMatch(/"isError":true/)
}

async function alertsOf(keyId: string) {
  const { results } = await env.DB.prepare('SELECT rule, subject, message FROM alerts WHERE key_id = ?1').bind(keyId).all<{ rule: string; subject: string; message: string }>()
  return results.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : 0))
}

beforeAll(async () => {
  await sim.reset()
})

describe('alerts on refusals by the policy', () => {
  it('a hidden field raises field_denied, throttled per key and model; never model_denied on a model the key may use', async () => {
    const { id, key } = await createTestKey({ login: 'sales_agent', name: 'n8n', policy: POLICY })
    await refused(key, 'search_records', { model: 'res.partner', fields: ['email'] })
    await refused(key, 'search_records', { model: 'res.partner', fields: ['name', 'email'] }) // throttled: email again
    await refused(key, 'count_records', { model: 'res.partner', domain: [['phone', '=', '+32']] }) // throttled: same model
    await flushAudit([id])
    expect(await alertsOf(id)).toEqual([
      {
        rule: 'field_denied',
        subject: `${id}:res.partner`,
        message: `'n8n' (${id}) was denied field email of res.partner by its policy (in the fields to return)`,
      },
    ])
  })

  it('a model or an operation refused raises model_denied naming what was refused', async () => {
    const { id, key } = await createTestKey({ login: 'sales_agent', name: 'n8n', policy: POLICY })
    await refused(key, 'search_records', { model: 'hr.employee' })
    await refused(key, 'update_records', { model: 'sale.order', ids: [1], values: { name: 'S00001-b' } })
    // A call on sale.order that reaches res.users through a domain path: res.users is the model refused.
    await refused(key, 'search_records', { model: 'sale.order', fields: ['name'], domain: [['user_id.login', '=', 'admin']] })
    await flushAudit([id])
    expect(await alertsOf(id)).toEqual([
      { rule: 'model_denied', subject: `${id}:hr.employee`, message: `'n8n' (${id}) was denied hr.employee by its policy` },
      {
        rule: 'model_denied',
        subject: `${id}:res.users`,
        message: `'n8n' (${id}) was denied res.users by its policy (reached through 'user_id' in the domain)`,
      },
      { rule: 'model_denied', subject: `${id}:sale.order`, message: `'n8n' (${id}) was denied sale.order (operation write) by its policy` },
    ])
  })

  it('other refusals by the policy raise neither, and every refusal keeps its code and its chain', async () => {
    const { id, key } = await createTestKey({ login: 'sales_agent', name: 'n8n', policy: POLICY })
    // A text value on a many2one runs Odoo's name search on res.partner, refused under a field list.
    await refused(key, 'search_records', { model: 'sale.order', fields: ['name'], domain: [['partner_id', 'ilike', 'azure']] })
    // An operator the gateway does not allow on that field type.
    await refused(key, 'search_records', { model: 'sale.order', fields: ['name'], domain: [['amount_total', 'like', '1']] })
    await refused(key, 'search_records', { model: 'res.partner', fields: ['email'] })
    await flushAudit([id])
    expect((await alertsOf(id)).map((alert) => alert.rule)).toEqual(['field_denied'])

    const records = await chainRecords(id)
    expect(records.map((record) => [record.outcome, record.code])).toEqual([
      ['denied', 'policy_denied'],
      ['denied', 'policy_denied'],
      ['denied', 'policy_denied'],
    ])
    // What the alert rules read travels with the record to the key's object but is neither stored nor hashed.
    const { results } = await env.DB.prepare('SELECT * FROM audit_log WHERE chain_id = ?1').bind(id).all()
    expect(Object.keys(results[0]!)).not.toContain('refusal')
    expect(JSON.stringify(results)).not.toContain('fields to return')
    expect(await verifyChain(id, { seq: 0, hash: GENESIS_HASH }, records)).toEqual([])
  })
})
