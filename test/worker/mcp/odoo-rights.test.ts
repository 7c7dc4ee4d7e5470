/**
 * Permission inheritance: every key acts as its own Odoo user, so Odoo's access rights and record rules apply,
 * through the real Worker against the simulated Odoo (JSON-RPC in the `workers` project, JSON-2 in `workers-json2`).
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey } from '../helpers'
import { FULL_ACCESS } from './policies'

const keys: Record<string, string> = {}

beforeAll(async () => {
  for (const login of ['admin', 'sales_agent', 'sales_manager', 'internal_user']) {
    keys[login] = (await createTestKey({ login, secret: odooApiKey(login), policy: FULL_ACCESS })).key
  }
})

function records(result: Awaited<ReturnType<typeof callTool>>) {
  expect(result.result?.isError, result.text).toBeFalsy()
  return (result.result!.structuredContent as { records: Record<string, unknown>[] }).records
}

describe(`Odoo rights are inherited (${env.ODOO_PROTOCOL})`, () => {
  it('lets a salesman see only his own sale orders (record rule)', async () => {
    const result = await callTool(keys.sales_agent!, 'search_records', { model: 'sale.order', fields: ['name', 'user_id'] })
    const rows = records(result)
    expect(rows.map((r) => r.id).sort()).toEqual([1, 2, 3])
    expect(rows.every((r) => (r.user_id as [number, string])[0] === 8)).toBe(true)
    expect((result.result!.structuredContent as { total: number }).total).toBe(3)
  })

  it('lets a sales manager see every sale order', async () => {
    const result = await callTool(keys.sales_manager!, 'count_records', { model: 'sale.order' })
    expect(result.result?.structuredContent).toEqual({ count: 20 })
  })

  it("refuses another salesman's order with Odoo's own AccessError", async () => {
    const result = await callTool(keys.sales_agent!, 'read_records', { model: 'sale.order', ids: [5], fields: ['name'] })
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/^Odoo AccessError: Uh-oh! Looks like you have stumbled upon some top-secret records/)
    expect(result.status).toBe(200)
  })

  it('refuses ir.config_parameter to a non-admin with AccessError', async () => {
    const result = await callTool(keys.sales_agent!, 'search_records', { model: 'ir.config_parameter', fields: ['key'] })
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/^Odoo AccessError: You are not allowed to access 'System Parameter' \(ir.config_parameter\) records/)
  })

  it('lets admin read ir.config_parameter when the policy names it', async () => {
    const rows = records(await callTool(keys.admin!, 'search_records', { model: 'ir.config_parameter', fields: ['key'], limit: 5 }))
    expect(rows.length).toBeGreaterThan(0)
  })

  it("refuses private hr.employee fields to a non-HR user, but serves public ones", async () => {
    const private_ = await callTool(keys.sales_agent!, 'read_records', { model: 'hr.employee', ids: [1], fields: ['name', 'private_email'] })
    expect(private_.result?.isError).toBe(true)
    expect(private_.text).toMatch(/^Odoo AccessError: .*private_email/s)
    const public_ = records(await callTool(keys.sales_agent!, 'read_records', { model: 'hr.employee', ids: [1], fields: ['name', 'job_title'] }))
    expect(public_[0]).toMatchObject({ id: 1, name: expect.any(String) })
  })

  it('asks Odoo only for fields the user may read when fields are omitted', async () => {
    const rows = records(await callTool(keys.sales_agent!, 'search_records', { model: 'hr.employee', limit: 3 }))
    expect(rows.length).toBeGreaterThan(0)
    for (const row of rows) {
      expect(row).not.toHaveProperty('private_email')
      expect(row).not.toHaveProperty('ssnid')
    }
  })

  it('refuses sale orders to an internal user without sales rights', async () => {
    const result = await callTool(keys.internal_user!, 'search_records', { model: 'sale.order' })
    expect(result.text).toMatch(/^Odoo AccessError: You are not allowed to access 'Sales Order' \(sale.order\) records/)
  })

  it('never passes on an Odoo traceback', async () => {
    const results = await Promise.all([
      callTool(keys.sales_agent!, 'read_records', { model: 'sale.order', ids: [5] }),
      callTool(keys.admin!, 'search_records', { model: 'no.such.model' }),
      callTool(keys.admin!, 'update_records', { model: 'res.partner', ids: [999999], values: { name: 'x' } }),
    ])
    for (const result of results) {
      expect(result.result?.isError).toBe(true)
      expect(result.raw).not.toMatch(/Traceback|File \\"|\/opt\/odoo|odoo\/http\.py/)
    }
    expect(results[2]!.text).toMatch(/^Odoo MissingError: Record does not exist or has been deleted/)
  })

  it('fails closed when the Odoo secret bound to the key is wrong (no fallback user)', async () => {
    const { key } = await createTestKey({ login: 'sales_agent', secret: 'not-the-right-secret', policy: FULL_ACCESS })
    const result = await callTool(key, 'count_records', { model: 'res.partner' })
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/Odoo rejected the credentials bound to this API key/)
  })
})
