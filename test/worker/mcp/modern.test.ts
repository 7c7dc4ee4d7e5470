/**
 * MCP 2026-07-28 next to the 2025 revisions on POST /mcp (mcp/modern.ts).
 *
 * - Real clients: the v2 SDK client negotiating (`auto`: server/discover first) and pinned to 2026-07-28 lists and
 *   calls tools; the v1 client still gets 2025.
 * - Against a reference, as properties: the v2 SDK's own handler (`createMcpHandler`) serving the same tools.
 *   For any generated 2026 request, the gateway answers with the reference's HTTP status, and wherever the reference
 *   refuses, with its exact body; the key's object, which builds 2026 bodies itself, produces the bytes the SDK
 *   would for the same result.
 */
import { Client as ClientV2, StreamableHTTPClientTransport as TransportV2 } from '@modelcontextprotocol/client'
import { createMcpHandler, McpServer as McpServerV2 } from '@modelcontextprotocol/server'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { toolAvailability } from '../../../src/mcp/availability'
import { listToolsBody, resultBody } from '../../../src/mcp/key-answers'
import { MODERN_PROTOCOL_VERSION, TOOL_LIST_TTL_MS } from '../../../src/mcp/modern'
import { INSTRUCTIONS, SERVER_INFO } from '../../../src/mcp/server'
import { TOOL_SCHEMAS, TOOLS } from '../../../src/mcp/tool-schemas'
import { keyPolicy } from '../../../src/policy/key-policy'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { connectClient, createTestKey, gatewayFetch, MCP_URL, odooApiKey } from '../helpers'
import { FULL_ACCESS } from './policies'

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION,
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'modern-test', version: '1' },
}

let key: string
let keyId: string

beforeAll(async () => {
  ;({ key, id: keyId } = await createTestKey({ login: 'admin', secret: odooApiKey('admin'), policy: FULL_ACCESS }))
})

/** A v2 client talking to the Worker in-process; `versions` collects the MCP-Protocol-Version of every request sent. */
function v2Client(mode: 'auto' | { pin: string }) {
  const client = new ClientV2({ name: 'v2-client', version: '2.4.0' }, { versionNegotiation: { mode } } as never)
  const versions: (string | null)[] = []
  const transport = new TransportV2(new URL(MCP_URL), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
    fetch: (input: string | URL | Request, init?: RequestInit) => {
      versions.push(new Headers(init?.headers).get('mcp-protocol-version'))
      return gatewayFetch(String(input instanceof Request ? input.url : input), init)
    },
  })
  return { client, transport, versions }
}

describe('2026-07-28 with real clients', () => {
  for (const mode of ['auto', { pin: MODERN_PROTOCOL_VERSION }] as const) {
    it(`the v2 client (${JSON.stringify(mode)}) negotiates 2026-07-28, lists and calls tools`, async () => {
      const { client, transport, versions } = v2Client(mode)
      await client.connect(transport)
      expect(client.getNegotiatedProtocolVersion()).toBe(MODERN_PROTOCOL_VERSION)
      const { tools } = await client.listTools()
      expect(tools.map((tool) => tool.name)).toEqual(TOOLS.map((tool) => tool.name))
      const result = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['name'], limit: 2 } })
      expect(result.isError).toBeFalsy()
      expect((result.structuredContent as { records: unknown[] }).records).toHaveLength(2)
      const refused = await client.callTool({ name: 'search_records', arguments: { model: 'res.partner', fields: ['name'], limit: 0 } })
      expect(refused.isError).toBe(true)
      // Every request the client sent was a 2026-07-28 one: no initialize, no 2025 fallback on the way.
      expect(versions.length).toBeGreaterThanOrEqual(3)
      expect(new Set(versions)).toEqual(new Set([MODERN_PROTOCOL_VERSION]))
      await client.close()
    })
  }

  it('the v1 client still speaks 2025', async () => {
    const client = await connectClient(key)
    const { tools } = await client.listTools()
    expect(tools).toHaveLength(TOOLS.length)
    await client.close()
  })
})

/** The reference: the v2 SDK's handler with the gateway's tools; each tool answers with a fixed result. */
function referenceHandler(result = { content: [{ type: 'text' as const, text: '{}' }], structuredContent: {} }) {
  return createMcpHandler(
    () => {
      const server = new McpServerV2(SERVER_INFO, {
        capabilities: { tools: { listChanged: false } },
        instructions: INSTRUCTIONS,
        cacheHints: { 'tools/list': { ttlMs: TOOL_LIST_TTL_MS, cacheScope: 'private' } },
      })
      for (const tool of TOOLS) {
        const schemas = TOOL_SCHEMAS.get(tool.name)!
        server.registerTool(
          tool.name,
          { title: tool.title, description: tool.description, inputSchema: schemas.input, annotations: { title: tool.title, ...tool.annotations }, outputSchema: schemas.output },
          async () => result as never,
        )
      }
      return server
    },
    { legacy: 'reject' },
  )
}

describe('2026-07-28 bodies built by the key object', () => {
  it('tools/list: the bytes the SDK sends for the same tools', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'l1', method: 'tools/list', params: { _meta: ENVELOPE } })
    const headers = { 'content-type': 'application/json', 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': 'tools/list' }
    const reference = await (await referenceHandler().fetch(new Request('http://reference/mcp', { method: 'POST', headers, body }))).text()
    const ours = listToolsBody('l1', toolAvailability(keyPolicy({ policy: JSON.stringify(FULL_ACCESS) } as never)), 'modern')
    expect(ours).toBe(reference)
  })

  it('tools/call: the bytes the SDK sends for the same result, for any result', async () => {
    const resultArbitrary = fc.record(
      {
        content: fc.array(fc.record({ type: fc.constant('text' as const), text: fc.string({ maxLength: 30 }) }), { minLength: 1, maxLength: 2 }),
        structuredContent: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
        isError: fc.constant(true),
      },
      { requiredKeys: ['content', 'isError'] },
    )
    // Successful results must pass the tool's output schema on the SDK's side: one that does, any text and id.
    const success = fc.record({
      content: fc.array(fc.record({ type: fc.constant('text' as const), text: fc.string({ maxLength: 30 }) }), { minLength: 1, maxLength: 2 }),
      structuredContent: fc.record({ model: fc.string({ maxLength: 10 }), fields: fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), fc.record({ type: fc.constantFrom('char', 'integer') }), { maxKeys: 2 }) }),
    })
    await fc.assert(
      fc.asyncProperty(fc.oneof(resultArbitrary, success), fc.oneof(fc.integer({ min: 0, max: 9999 }), fc.string({ maxLength: 8 })), async (result, id) => {
        const normal = JSON.parse(JSON.stringify(result)) as typeof result
        const body = JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'describe_model', arguments: { model: 'res.partner' }, _meta: ENVELOPE } })
        const headers = { 'content-type': 'application/json', 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': 'tools/call', 'mcp-name': 'describe_model' }
        const reference = await (await referenceHandler(normal as never).fetch(new Request('http://reference/mcp', { method: 'POST', headers, body }))).text()
        expect(resultBody(id, normal as never, 'modern')).toBe(reference)
      }),
      { numRuns: 60 },
    )
  })
})

describe('2026-07-28 requests: the gateway answers as the SDK would', () => {
  const methods = fc.constantFrom('tools/list', 'tools/call', 'server/discover', 'initialize', 'ping', 'resources/list', 'prompts/get')
  const toolNames = fc.constantFrom('search_records', 'describe_model', 'no_such_tool')
  const argumentSets = fc.constantFrom<unknown>({ model: 'res.partner' }, { model: 'res.partner', limit: 0 }, { model: 7 }, undefined, 'text')
  const envelopes = fc.constantFrom<unknown>(ENVELOPE, { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2027-01-01' }, { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL_VERSION }, { ...ENVELOPE, 'io.modelcontextprotocol/clientCapabilities': 'all' }, undefined)
  const request = fc.record({
    method: methods,
    name: toolNames,
    args: argumentSets,
    envelope: envelopes,
    id: fc.oneof(fc.integer({ min: 0, max: 99 }), fc.constant('x')),
    versionHeader: fc.constantFrom<string | undefined>(MODERN_PROTOCOL_VERSION, undefined),
    methodHeader: fc.boolean(),
    nameHeader: fc.boolean(),
  })

  it('same status; a refusal with the same body', async () => {
    const reference = referenceHandler({ content: [{ type: 'text', text: '{}' }], structuredContent: { fields: {} } } as never)
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const params: Record<string, unknown> = {}
        if (r.method === 'tools/call') Object.assign(params, { name: r.name, ...(r.args === undefined ? {} : { arguments: r.args }) })
        if (r.envelope !== undefined) params._meta = r.envelope
        // Without any 2026 sign (no envelope, no header) a request is a 2025 one: not this property's subject.
        fc.pre(r.envelope !== undefined || r.versionHeader !== undefined)
        const body = JSON.stringify({ jsonrpc: '2.0', id: r.id, method: r.method, params })
        const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
        if (r.versionHeader) headers['mcp-protocol-version'] = r.versionHeader
        if (r.methodHeader) headers['mcp-method'] = r.method
        if (r.nameHeader && r.method === 'tools/call') headers['mcp-name'] = r.name
        const theirs = await reference.fetch(new Request('http://reference/mcp', { method: 'POST', headers, body }))
        const ours = await gatewayFetch(MCP_URL, { method: 'POST', headers: { ...headers, authorization: `Bearer ${key}` }, body })
        const [theirBody, ourBody] = [await theirs.text(), await ours.text()]
        expect(ours.status, `${body} ${JSON.stringify(headers)}\n${ourBody}\n${theirBody}`).toBe(theirs.status)
        const theirError = theirs.status >= 400 || (JSON.parse(theirBody) as { error?: unknown }).error !== undefined
        if (theirError) expect(ourBody).toBe(theirBody)
        else expect(Object.keys((JSON.parse(ourBody) as { result: object }).result)).toContain('resultType')
      }),
      { numRuns: 150 },
    )
  })
})

describe('2026-07-28 records', () => {
  it('the audit record names the client from the envelope', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { _meta: ENVELOPE } })
    const response = await gatewayFetch(MCP_URL, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'mcp-protocol-version': MODERN_PROTOCOL_VERSION, 'mcp-method': 'tools/list', authorization: `Bearer ${key}` },
      body,
    })
    expect(response.status).toBe(200)
    await flushAudit([keyId])
    const record = await auditByRequestId(response.headers.get('x-request-id')!)
    expect(record?.clientInfo).toBe('modern-test/1')
    expect(record?.responseBytes).toBe((await response.arrayBuffer()).byteLength)
  })
})
