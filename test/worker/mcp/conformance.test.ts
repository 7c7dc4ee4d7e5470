/** MCP protocol behaviour, with the SDK's own client and with raw JSON-RPC. */
import { describe, expect, it } from 'vitest'
import { connectClient, createTestKey, postMcp } from '../helpers'
import { FULL_ACCESS } from './policies'

const EXPECTED_TOOLS = [
  'list_models',
  'describe_model',
  'search_records',
  'read_records',
  'count_records',
  'aggregate_records',
  'create_record',
  'update_records',
  'delete_records',
]

describe('MCP over Streamable HTTP', () => {
  it.each(['2025-03-26', '2025-06-18', '2025-11-25'])('initializes with protocol %s and stays stateless', async (version) => {
    const { key } = await createTestKey()
    const response = await postMcp(key, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: version, capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('mcp-session-id')).toBeNull()
    const body = (await response.json()) as { result: { protocolVersion: string; serverInfo: { name: string }; capabilities: object } }
    expect(body.result.protocolVersion).toBe(version)
    expect(body.result.serverInfo.name).toBe('odoo-mcp-edge')
    expect(body.result.capabilities).toHaveProperty('tools')
  })

  it('does not announce tools/list_changed notifications, which a stateless server can never send', async () => {
    const { key } = await createTestKey({ policy: FULL_ACCESS })
    const response = await postMcp(key, {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    })
    const body = (await response.json()) as { result: { capabilities: Record<string, unknown> } }
    expect(body.result.capabilities).toEqual({ tools: { listChanged: false } })
    const client = await connectClient(key)
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(false)
    await client.close()
  })

  it('lists every tool with a description, a plain object schema and honest annotations', async () => {
    const { key } = await createTestKey({ policy: FULL_ACCESS })
    const client = await connectClient(key)
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name)).toEqual(EXPECTED_TOOLS)
    for (const tool of tools) {
      expect(tool.description!.length, tool.name).toBeGreaterThan(60)
      expect(tool.inputSchema.type).toBe('object')
      // Some model providers reject top-level combinators.
      for (const combinator of ['anyOf', 'oneOf', 'allOf']) expect(tool.inputSchema, tool.name).not.toHaveProperty(combinator)
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(['list_models', 'describe_model', 'search_records', 'read_records', 'count_records', 'aggregate_records'].includes(tool.name))
    }
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]))
    expect(byName.delete_records!.annotations?.destructiveHint).toBe(true)
    expect(byName.create_record!.annotations?.destructiveHint).toBe(false)
    expect(byName.search_records!.inputSchema.required).toEqual(['model'])
    await client.close()
  })

  it('answers ping', async () => {
    const { key } = await createTestKey()
    const client = await connectClient(key)
    await expect(client.ping()).resolves.toEqual({})
    await client.close()
  })

  it('accepts notifications with 202 and no body', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', method: 'notifications/initialized' })
    expect(response.status).toBe(202)
    expect(await response.text()).toBe('')
  })

  it('answers a call to an unknown tool with an error naming it', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'drop_database', arguments: {} } })
    const body = (await response.json()) as { result?: { isError: boolean; content: { text: string }[] }; error?: { message: string } }
    const message = body.error?.message ?? body.result?.content[0]?.text
    expect(body.result?.isError ?? true).toBe(true)
    expect(message).toMatch(/drop_database.*not found/)
  })

  it('answers invalid tool arguments with a tool error naming the argument', async () => {
    const { key } = await createTestKey({ policy: FULL_ACCESS })
    const client = await connectClient(key)
    const result = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', limit: 10_000 } })
    expect(result.isError).toBe(true)
    expect(JSON.stringify(result.content)).toMatch(/limit/)
    const missing = await client.callTool({ name: 'read_records', arguments: { model: 'res.partner' } })
    expect(missing.isError).toBe(true)
    expect(JSON.stringify(missing.content)).toMatch(/ids/)
    await client.close()
  })

  it('answers a request without method with -32600 or -32700, never a 500', async () => {
    const { key } = await createTestKey()
    const response = await postMcp(key, { jsonrpc: '2.0', id: 1 })
    expect(response.status).toBeLessThan(500)
    const body = (await response.json()) as { error: { code: number } }
    expect([-32600, -32700]).toContain(body.error.code)
  })
})
