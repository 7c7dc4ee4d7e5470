/** Each tool end to end: the Worker, a key with full access, the simulated Odoo. */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { callTool, createTestKey, odooApiKey, sim } from '../helpers'
import { FULL_ACCESS } from './policies'

let admin: string

beforeAll(async () => {
  admin = (await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS })).key
})

function ok(result: Awaited<ReturnType<typeof callTool>>) {
  expect(result.result?.isError, result.text).toBeFalsy()
  // Structured content and the text block carry the same JSON (for clients that only read text).
  expect(JSON.parse(result.text)).toEqual(result.result!.structuredContent)
  return result.result!.structuredContent as Record<string, unknown>
}

describe(`tools (${env.ODOO_PROTOCOL})`, () => {
  it('list_models finds models by name or label', async () => {
    const { models } = ok(await callTool(admin, 'list_models', { search: 'partner' })) as { models: { model: string; name: string }[] }
    expect(models.map((m) => m.model)).toContain('res.partner')
    expect(models.every((m) => /partner/i.test(m.model + m.name))).toBe(true)
  })

  it('describe_model returns field types and relations', async () => {
    const { fields } = ok(await callTool(admin, 'describe_model', { model: 'sale.order' })) as { fields: Record<string, { type: string; relation?: string }> }
    expect(fields.partner_id).toMatchObject({ type: 'many2one', relation: 'res.partner' })
    expect(fields.amount_total?.type).toBe('monetary')
  })

  it('search_records filters, orders, pages and counts', async () => {
    const page = ok(
      await callTool(admin, 'search_records', {
        model: 'res.partner',
        domain: [['is_company', '=', true]],
        fields: ['name', 'is_company'],
        order: 'name asc',
        limit: 3,
        offset: 1,
      }),
    ) as { records: { id: number; name: string; is_company: boolean }[]; has_more: boolean; total?: number; limit: number; offset: number }
    expect(page.records).toHaveLength(3)
    expect(page.records.every((r) => r.is_company === true)).toBe(true)
    expect(page.records.map((r) => r.name)).toEqual([...page.records.map((r) => r.name)].sort((a, b) => a.localeCompare(b)))
    expect(page).toMatchObject({ has_more: true, limit: 3, offset: 1 })
    expect(page.total).toBeUndefined()
    for (const record of page.records) expect(Object.keys(record).sort()).toEqual(['id', 'is_company', 'name'])
  })

  describe('search_records asks Odoo once, and counts only when asked', () => {
    const companies = { model: 'res.partner', domain: [['is_company', '=', true]], fields: ['name'], order: 'id' }
    const search = async (args: Record<string, unknown>) => {
      await sim.clearCalls()
      const page = ok(await callTool(admin, 'search_records', { ...companies, ...args })) as {
        records: { id: number }[]
        has_more: boolean
        total?: number
      }
      const calls = (await sim.calls()).filter((call) => call.model === 'res.partner' && ['search_read', 'search_count', 'read', 'search', 'web_search_read'].includes(call.method))
      return { page, calls }
    }

    it('pages with has_more from one search_read of limit + 1, and no count', async () => {
      const { page: exact } = await search({ limit: 500, count_total: true })
      const all = exact.total!
      expect(exact.records).toHaveLength(all)
      expect(exact.has_more).toBe(false)
      expect(all).toBeGreaterThan(4)

      const { page, calls } = await search({ limit: 2, offset: 1 })
      expect(calls.map((call) => call.method)).toEqual(['search_read'])
      expect(calls[0]!.kwargs).toMatchObject({ limit: 3, offset: 1 })
      expect(page.records.map((r) => r.id)).toEqual(exact.records.slice(1, 3).map((r) => r.id))
      expect(page).toMatchObject({ has_more: true })
      expect(page.total).toBeUndefined()

      // The last page knows the total for free; a page exactly at the end too.
      const { page: last, calls: lastCalls } = await search({ limit: 3, offset: all - 2 })
      expect(lastCalls.map((call) => call.method)).toEqual(['search_read'])
      expect(last).toMatchObject({ has_more: false, total: all })
      expect(last.records).toHaveLength(2)
      expect((await search({ limit: 2, offset: all - 2 })).page).toMatchObject({ has_more: false, total: all })
      // Past the end nothing says how many there are: no total rather than a wrong one.
      const { page: beyond } = await search({ limit: 2, offset: all + 5 })
      expect(beyond).toMatchObject({ records: [], has_more: false })
      expect(beyond.total).toBeUndefined()
    })

    it('count_total: true adds one search_count and always answers total', async () => {
      const { page, calls } = await search({ limit: 2, count_total: true })
      expect(calls.map((call) => call.method).sort()).toEqual(['search_count', 'search_read'])
      expect(page.has_more).toBe(true)
      expect(page.total).toBeGreaterThan(2)
      const { page: beyond } = await search({ limit: 2, offset: 10_000, count_total: true })
      expect(beyond.total).toBe(page.total)
    })
  })

  it('search_records returns 50 records by default and refuses more than 500', async () => {
    const page = ok(await callTool(admin, 'search_records', { model: 'res.partner', fields: ['name'] })) as { records: unknown[]; limit: number }
    expect(page.limit).toBe(50)
    expect(page.records.length).toBeLessThanOrEqual(50)
    const tooMany = await callTool(admin, 'search_records', { model: 'res.partner', limit: 501 })
    expect(tooMany.result?.isError).toBe(true)
    expect(tooMany.text).toMatch(/limit/)
  })

  it('takes limit and offset within the same bounds in every tool (max 500, offset max 10,000,000)', async () => {
    for (const [tool, args] of [
      ['search_records', { model: 'res.partner', fields: ['name'] }],
      ['aggregate_records', { model: 'res.partner', groupby: ['is_company'] }],
      ['list_models', {}],
    ] as const) {
      const atMost = await callTool(admin, tool, { ...args, limit: 500 })
      expect(atMost.result?.isError, `${tool}: ${atMost.text}`).toBeFalsy()
      const over = await callTool(admin, tool, { ...args, limit: 501 })
      expect(over.result?.isError, tool).toBe(true)
      expect(over.text, tool).toMatch(/limit/)
    }
    for (const tool of ['search_records', 'aggregate_records'] as const) {
      const args = tool === 'search_records' ? { model: 'res.partner', fields: ['name'] } : { model: 'res.partner', groupby: ['is_company'] }
      expect((await callTool(admin, tool, { ...args, offset: 10_000_000 })).result?.isError, tool).toBeFalsy()
      const over = await callTool(admin, tool, { ...args, offset: 10_000_001 })
      expect(over.result?.isError, tool).toBe(true)
      expect(over.text, tool).toMatch(/offset/)
    }
  })

  it('search_records follows dotted paths and combines | and !', async () => {
    const page = ok(
      await callTool(admin, 'search_records', {
        model: 'sale.order',
        domain: ['|', ['partner_id.name', 'ilike', 'azure'], '!', ['state', 'in', ['sale', 'cancel']]],
        fields: ['name', 'state', 'partner_id'],
        limit: 100,
      }),
    ) as { records: { state: string; partner_id: [number, string] }[] }
    expect(page.records.length).toBeGreaterThan(0)
    expect(page.records.every((r) => /azure/i.test(r.partner_id[1]) || !['sale', 'cancel'].includes(r.state))).toBe(true)
  })

  it('read_records reports ids that do not exist', async () => {
    const result = ok(await callTool(admin, 'read_records', { model: 'res.partner', ids: [1, 999999], fields: ['name'] }))
    expect(result.missing).toEqual([999999])
    expect((result.records as unknown[]).length).toBe(1)
  })

  it('aggregate_records groups and sums', async () => {
    const { groups } = ok(
      await callTool(admin, 'aggregate_records', { model: 'sale.order', groupby: ['state'], aggregates: ['amount_total:sum'] }),
    ) as { groups: { state: string; count: number; 'amount_total:sum': number }[] }
    expect(groups.length).toBeGreaterThan(0)
    expect(groups.reduce((sum, g) => sum + g.count, 0)).toBe(20)
    for (const group of groups) expect(Object.keys(group).sort()).toEqual(['amount_total:sum', 'count', 'state'])
  })

  it('create, update and delete a record, then find it gone', async () => {
    const { id } = ok(await callTool(admin, 'create_record', { model: 'res.partner', values: { name: 'MCP Test Partner', email: 'mcp-test@example.com' } })) as { id: number }
    expect(id).toBeGreaterThan(0)
    expect(ok(await callTool(admin, 'update_records', { model: 'res.partner', ids: [id], values: { phone: '+32 2 000 00 00' } }))).toEqual({ updated: [id] })
    const read = ok(await callTool(admin, 'read_records', { model: 'res.partner', ids: [id], fields: ['name', 'email', 'phone'] }))
    expect(read.records).toEqual([{ id, name: 'MCP Test Partner', email: 'mcp-test@example.com', phone: '+32 2 000 00 00' }])
    expect(ok(await callTool(admin, 'delete_records', { model: 'res.partner', ids: [id] }))).toEqual({ deleted: [id] })
    expect(ok(await callTool(admin, 'read_records', { model: 'res.partner', ids: [id] })).missing).toEqual([id])
  })

  it("passes on Odoo's ValidationError when a required field is missing", async () => {
    const result = await callTool(admin, 'create_record', { model: 'res.partner', values: { email: 'no-name@example.com' } })
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/^Odoo ValidationError: /)
  })

  it('refuses a malformed domain before anything reaches Odoo (never an unfiltered search)', async () => {
    await sim.clearCalls()
    for (const domain of [[['name', 'likee', 'x']], ['|', ['name', '=', 'x']], "[('name','=','x')]", [['name']]]) {
      const result = await callTool(admin, 'search_records', { model: 'res.partner', domain })
      expect(result.result?.isError, JSON.stringify(domain)).toBe(true)
      expect(result.text).toMatch(/domain/)
    }
    const calls = await sim.calls()
    expect(calls.filter((call) => call.method === 'search_read' || call.method === 'search_count')).toEqual([])
  })

  it('always sends Odoo an explicit field list', async () => {
    await sim.clearCalls()
    await callTool(admin, 'search_records', { model: 'res.partner', limit: 2 })
    await callTool(admin, 'read_records', { model: 'res.partner', ids: [1] })
    const reads = (await sim.calls()).filter((call) => call.method === 'search_read' || call.method === 'read')
    expect(reads.length).toBe(2)
    for (const call of reads) {
      const fields = (call.kwargs as { fields?: string[] } | undefined)?.fields
      expect(Array.isArray(fields) && fields.length > 0, JSON.stringify(call)).toBe(true)
      expect(fields).not.toContain('image_1920')
    }
  })
})
