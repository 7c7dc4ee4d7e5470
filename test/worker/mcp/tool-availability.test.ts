/**
 * tools/list shows a key only the tools its policy lets it use at all (src/mcp/availability.ts); a call to one it is
 * not shown is refused with why, audited as a policy refusal, and never reaches Odoo.
 */
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import { toolAvailability, refusalError } from '../../../src/mcp/availability'
import type { ToolDefinition } from '../../../src/mcp/tool'
import { ALL_TOOLS } from '../../../src/mcp/tools'
import { keyPolicy } from '../../../src/policy/key-policy'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { callTool, connectClient, createTestKey, odooApiKey, postMcp, sim } from '../helpers'
import { FULL_ACCESS, SALES_AGENT_POLICY } from './policies'

const READ_TOOLS = ['list_models', 'describe_model', 'search_records', 'read_records', 'count_records', 'aggregate_records']

async function listedTo(key: string): Promise<string[]> {
  const client = await connectClient(key)
  try {
    return (await client.listTools()).tools.map((tool) => tool.name)
  } finally {
    await client.close()
  }
}

const adminKey = (policy: unknown) => createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy })

beforeAll(async () => {
  await sim.reset()
})

describe(`tools a key is shown (${env.ODOO_PROTOCOL})`, () => {
  it('shows a read-only key the read tools only', async () => {
    const { key } = await adminKey(SALES_AGENT_POLICY)
    expect(await listedTo(key)).toEqual(READ_TOOLS)
  })

  it('shows create_record to a key with create on one model, and no other write tool', async () => {
    const { key } = await adminKey({
      version: 1,
      models: {
        'res.partner': { operations: ['read', 'create'], fields: ['name', 'city'] },
        'sale.order': { operations: ['read'], fields: ['name'] },
      },
    })
    expect(await listedTo(key)).toEqual([...READ_TOOLS, 'create_record'])
  })

  it('shows the tools of each operation the policy grants anywhere, "*" included', async () => {
    const { key } = await adminKey({
      version: 1,
      models: {
        '*': { operations: ['read', 'write'], fields: '*' },
        'crm.lead': { operations: ['unlink'], fields: ['name'] },
      },
    })
    expect(await listedTo(key)).toEqual([...READ_TOOLS, 'update_records', 'delete_records'])
    const full = await adminKey(FULL_ACCESS)
    expect(await listedTo(full.key)).toHaveLength(ALL_TOOLS.length)
  })

  it('shows a create-only key list_models and create_record (list_models lists the models of every operation)', async () => {
    const { key } = await adminKey({ version: 1, models: { 'res.partner': { operations: ['create'], fields: ['name'] } } })
    expect(await listedTo(key)).toEqual(['list_models', 'create_record'])
    const listed = await callTool(key, 'list_models', {})
    expect(listed.result?.isError, listed.text).toBeFalsy()
    expect(listed.result?.structuredContent).toEqual({ models: [expect.objectContaining({ model: 'res.partner' })] })
  })

  it('shows no tool to a key without a policy, or with an empty one', async () => {
    expect(await listedTo((await createTestKey()).key)).toEqual([])
    expect(await listedTo((await adminKey({ version: 1, models: {} })).key)).toEqual([])
  })
})

describe('a call to a tool the key is not shown', () => {
  it('is refused with why, audited as a policy refusal, and reaches nothing', async () => {
    const { id, key } = await adminKey(SALES_AGENT_POLICY)
    await sim.clearCalls()
    const response = await postMcp(key, {
      jsonrpc: '2.0',
      id: 7,
      method: 'tools/call',
      params: { name: 'delete_records', arguments: { model: 'res.partner', ids: [12] } },
    })
    expect(response.status).toBe(200)
    const body = (await response.json()) as { result: { isError: boolean; content: { type: string; text: string }[] } }
    expect(body.result.isError).toBe(true)
    expect(body.result.content[0]!.text).toBe(
      "delete_records is not available: this API key's policy allows 'unlink' on no model (it allows: read). Use the tools that tools/list shows.",
    )
    expect(await sim.calls()).toEqual([])

    await flushAudit([id])
    const record = await auditByRequestId(response.headers.get('x-request-id')!)
    expect(record).toMatchObject({
      method: 'tools/call',
      tool: 'delete_records',
      operation: 'delete',
      model: 'res.partner',
      outcome: 'denied',
      code: 'policy_denied',
      httpStatus: 200,
    })
  })

  it('is refused the same way whatever its arguments (they are not the problem)', async () => {
    const { key } = await adminKey(SALES_AGENT_POLICY)
    for (const args of [{}, { model: 'res.partner', values: 'not an object' }, { model: 42 }]) {
      const result = await callTool(key, 'create_record', args)
      expect(result.result?.isError, JSON.stringify(args)).toBe(true)
      expect(result.text).toMatch(/^create_record is not available: this API key's policy allows 'create' on no model/)
    }
  })

  it('tells a key without a policy that it has none', async () => {
    const { id, key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'search_records', arguments: { model: 'res.partner' } } })
    const body = (await response.json()) as { result: { isError: boolean; content: { text: string }[] } }
    expect(body.result.isError).toBe(true)
    expect(body.result.content[0]!.text).toMatch(/^search_records is not available: this API key has no policy, so it may not use any Odoo model/)
    await flushAudit([id])
    expect(await auditByRequestId(response.headers.get('x-request-id')!)).toMatchObject({ outcome: 'denied', code: 'policy_denied', tool: 'search_records' })
  })

  it('still answers a tool the gateway does not have at all as not found', async () => {
    const { key } = await adminKey(SALES_AGENT_POLICY)
    const result = await callTool(key, 'drop_database', {})
    expect(result.result?.isError).toBe(true)
    expect(result.text).toMatch(/drop_database.*not found/)
  })
})

describe('availability, unit', () => {
  it("matches each tool's requirement to the operation its plan asks the guard for", () => {
    const samples: Record<string, Record<string, unknown>> = {
      describe_model: { model: 'res.partner' },
      search_records: { model: 'res.partner', limit: 1, offset: 0 },
      read_records: { model: 'res.partner', ids: [1] },
      count_records: { model: 'res.partner' },
      aggregate_records: { model: 'res.partner', groupby: ['city'], aggregates: [], limit: 1, offset: 0 },
      create_record: { model: 'res.partner', values: { name: 'x' } },
      update_records: { model: 'res.partner', ids: [1], values: { name: 'x' } },
      delete_records: { model: 'res.partner', ids: [1] },
    }
    for (const tool of ALL_TOOLS as unknown as ToolDefinition[]) {
      if (tool.requires === 'any') {
        expect(tool.name).toBe('list_models')
        continue
      }
      expect(tool.plan(samples[tool.name] as never).operation, tool.name).toBe(tool.requires)
    }
  })

  it('lists nothing for a policy that does not parse (fail closed), and says so when called', () => {
    const invalid = keyPolicy({ policy: '{"version": 2}' })
    expect(invalid.kind).toBe('invalid')
    const tools = toolAvailability(invalid)
    expect(tools.listed).toEqual([])
    expect(tools.refused.size).toBe(ALL_TOOLS.length)
    const error = refusalError(tools.refused.get('search_records')!, { model: 'res.partner' })
    expect(error.code).toBe('policy_invalid')
    expect(error.message).toMatch(/^search_records is not available: this API key's stored policy is invalid/)
  })

  it('tells the alert rules which operation on which model was refused', () => {
    const tools = toolAvailability(keyPolicy({ policy: JSON.stringify(SALES_AGENT_POLICY) }))
    const error = refusalError(tools.refused.get('update_records')!, { model: 'sale.order', ids: [1], values: {} })
    expect(error.code).toBe('policy_denied')
    expect(error.refusal).toEqual({ kind: 'operation', model: 'sale.order', operation: 'write' })
    // A model argument that is not a model name is not passed on.
    expect(refusalError(tools.refused.get('update_records')!, { model: 'x\u001b[2J' }).refusal).toBeUndefined()
    const none = toolAvailability(keyPolicy({ policy: null }))
    expect(refusalError(none.refused.get('count_records')!, { model: 'res.partner' }).refusal).toEqual({ kind: 'model', model: 'res.partner', noPolicy: true })
  })

  it('is computed once per policy, not per request', () => {
    const text = JSON.stringify(SALES_AGENT_POLICY)
    expect(toolAvailability(keyPolicy({ policy: text }))).toBe(toolAvailability(keyPolicy({ policy: text })))
  })

  it('refuses admission to a key whose stored policy is invalid before any MCP method runs', async () => {
    const { key } = await createTestKey({ policy: { version: 1, models: { 'res.partner': { operations: ['drop'], fields: '*' } } } })
    const response = await postMcp(key, { jsonrpc: '2.0', id: 1, method: 'tools/list' })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: 'policy_invalid' })
  })
})
