/**
 * Company pinning (policy version 2, `"companies"`): every Odoo call of the key carries `allowed_company_ids` equal
 * to the pinned companies, and the agent cannot set or widen it, through any tool or context. Checked on the calls
 * the simulated Odoo receives.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey, sim } from '../helpers'

const PINNED = {
  version: 2,
  companies: [1],
  models: {
    'res.partner': { operations: ['read', 'create', 'write'], fields: '*', filter: [['company_id', 'in', '$company_ids']] },
    'sale.order': { operations: ['read'], fields: ['name', 'company_id'] },
  },
}

let key = ''

beforeAll(async () => {
  key = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: PINNED })).key
})

/** The context of every Odoo call carrying `marker`. */
async function contextsOf(marker: string): Promise<unknown[]> {
  const calls = await sim.callsContaining(marker)
  expect(calls.length).toBeGreaterThan(0)
  return calls.map((call) => {
    const text = JSON.stringify(call)
    const match = /"allowed_company_ids":(\[[^\]]*\])/.exec(text)
    return match ? JSON.parse(match[1]!) : null
  })
}

describe(`company pinning (${env.ODOO_PROTOCOL})`, () => {
  it.each([
    ['search_records', (m: string) => ({ model: 'sale.order', domain: [['name', '=', m]] })],
    ['count_records', (m: string) => ({ model: 'sale.order', domain: [['name', '=', m]] })],
    ['aggregate_records', (m: string) => ({ model: 'sale.order', domain: [['name', '=', m]], groupby: ['company_id'] })],
    ['create_record', (m: string) => ({ model: 'res.partner', values: { name: m } })],
  ])('sends allowed_company_ids = the pinned companies on %s', async (tool, args) => {
    const marker = `pin-${crypto.randomUUID()}`
    const result = await callTool(key, tool, args(marker))
    expect(result.result?.isError, result.text).toBeFalsy()
    expect(await contextsOf(marker)).toEqual((await contextsOf(marker)).map(() => [1]))
  })

  it('pins the company of a created record through the filter (company_id filled from $company_ids)', async () => {
    const marker = `pin-${crypto.randomUUID()}`
    const { id } = (await callTool(key, 'create_record', { model: 'res.partner', values: { name: marker } })).result!.structuredContent as { id: number }
    const read = await callTool(key, 'read_records', { model: 'res.partner', ids: [id], fields: ['company_id'] })
    // res.company is not in the policy, so the many2one comes back as its bare id.
    expect((read.result!.structuredContent as { records: { company_id: unknown }[] }).records[0]!.company_id).toBe(1)
  })

  it.each([
    { allowed_company_ids: [1, 2] },
    { allowed_company_ids: [] },
    { force_company: 2 },
    { company_id: 2 },
    { uid: 1 },
  ])('refuses a context that would change the companies or the user: %j', async (context) => {
    const marker = `pin-${crypto.randomUUID()}`
    const result = await callTool(key, 'search_records', { model: 'sale.order', domain: [['name', '=', marker]], context })
    // Refused by the tool's argument schema (the context takes lang, tz and active_test only), before any Odoo call.
    expect(result.result?.isError ?? result.body.error !== undefined).toBe(true)
    expect(result.text || result.body.error?.message).toMatch(/context/i)
    expect(await sim.callsContaining(marker)).toEqual([])
  })

  it('fails every call with Odoo\'s own error when a pinned company is not one of the user\'s', async () => {
    const { key: wide } = await createTestKey({ login: 'sales_agent', secret: odooApiKey('sales_agent'), policy: { ...PINNED, companies: [1, 4242] } })
    const result = await callTool(wide, 'count_records', { model: 'sale.order' })
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/^Odoo AccessError: Access to unauthorized or invalid companies/)
  })
})
