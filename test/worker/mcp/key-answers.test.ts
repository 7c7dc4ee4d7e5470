/**
 * The edge validates tool arguments and the key's object builds tools/list itself (mcp/tool-schemas.ts,
 * mcp/key-answers.ts) instead of going through the SDK's McpServer. Property: for any policy and any arguments, what
 * they produce is what the SDK would have produced for the same tools — the reference is an SDK McpServer with those
 * tools registered, talked to by the SDK's client over an in-memory transport.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import fc from 'fast-check'
import { z } from 'zod'
import { describe, expect, it } from 'vitest'
import { toolAvailability } from '../../../src/mcp/availability'
import { listToolsBody } from '../../../src/mcp/key-answers'
import { checkToolArguments, TOOL_SCHEMAS, TOOLS } from '../../../src/mcp/tool-schemas'
import type { ToolDefinition } from '../../../src/mcp/tool'
import { keyPolicy } from '../../../src/policy/key-policy'
import { FULL_ACCESS, SALES_AGENT_POLICY } from './policies'

/**
 * The reference: an SDK server with these tools; each handler answers with the arguments it was given. Without
 * output schemas for the calls (the handlers answer no structured content).
 */
async function referenceClient(tools: readonly ToolDefinition[] = TOOLS, withOutputSchemas = true): Promise<Client> {
  const server = new McpServer({ name: 'reference', version: '1' })
  for (const tool of tools) {
    const schemas = TOOL_SCHEMAS.get(tool.name)!
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: schemas.input, outputSchema: withOutputSchemas ? schemas.output : undefined, annotations: { title: tool.title, ...tool.annotations } },
      async (args) => ({ content: [{ type: 'text', text: JSON.stringify(args) }] }),
    )
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair()
  await server.connect(serverSide)
  const client = new Client({ name: 'reference-client', version: '1' })
  await client.connect(clientSide)
  return client
}

const keyWithPolicy = (policy: unknown) => ({ policy: policy === undefined ? null : JSON.stringify(policy) }) as Parameters<typeof keyPolicy>[0]

describe('tools/list made by the key object', () => {
  const policies: [string, unknown][] = [
    ['full access', FULL_ACCESS],
    ['sales agent (read only)', SALES_AGENT_POLICY],
    ['create only', { version: 1, models: { 'res.partner': { operations: ['create'], fields: '*' } } }],
    ['write and unlink', { version: 1, models: { 'res.partner': { operations: ['write', 'unlink'], fields: ['name'] } } }],
    ['no policy', undefined],
  ]
  for (const [name, policy] of policies) {
    it(`equals the SDK's list of the same tools: ${name}`, async () => {
      const availability = toolAvailability(keyPolicy(keyWithPolicy(policy)))
      const ours = JSON.parse(listToolsBody(7, availability)) as { jsonrpc: string; id: number; result: { tools: unknown[] } }
      expect(ours.jsonrpc).toBe('2.0')
      expect(ours.id).toBe(7)
      // The server's answer as sent (the client's own parse would add its defaults), compared as JSON text is.
      const reference = availability.listed.length === 0 ? { tools: [] } : await (await referenceClient(availability.listed)).request({ method: 'tools/list' }, z.any())
      expect(ours.result.tools).toEqual(JSON.parse(JSON.stringify(reference)).tools)
      expect(ours.result.tools.map((tool) => (tool as { name: string }).name)).toEqual(availability.listed.map((tool) => tool.name))
    })
  }
})

describe('tool arguments checked at the edge', () => {
  /** Arguments near the tools' real shapes, and arbitrary JSON. */
  const argumentsArbitrary = fc.oneof(
    fc.record(
      {
        model: fc.oneof(fc.constantFrom('res.partner', 'sale.order', ''), fc.string({ maxLength: 12 }), fc.integer()),
        fields: fc.oneof(fc.array(fc.constantFrom('name', 'email', '', 'x'.repeat(80)), { maxLength: 3 }), fc.string()),
        domain: fc.oneof(fc.constant([['is_company', '=', true]]), fc.constant(['|']), fc.jsonValue({ maxDepth: 2 })),
        limit: fc.oneof(fc.integer({ min: -5, max: 600 }), fc.double(), fc.constant('5')),
        offset: fc.integer({ min: -2, max: 20 }),
        ids: fc.oneof(fc.array(fc.integer({ min: -1, max: 5 }), { maxLength: 3 }), fc.constant('1')),
        values: fc.oneof(fc.dictionary(fc.constantFrom('name', 'email'), fc.jsonValue({ maxDepth: 1 })), fc.constant(null)),
        count_total: fc.oneof(fc.boolean(), fc.constant('yes')),
        groupby: fc.array(fc.constantFrom('country_id', 'date_order:month', ''), { maxLength: 2 }),
        aggregates: fc.array(fc.constantFrom('amount_total:sum', '__count', 'bad'), { maxLength: 2 }),
        search: fc.string({ maxLength: 5 }),
      },
      { requiredKeys: [] },
    ),
    fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 }),
  )

  it('accepts and refuses exactly what the SDK does, with its words, and passes on what it would', async () => {
    const client = await referenceClient(TOOLS, false)
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TOOLS), argumentsArbitrary, async (tool, args) => {
        const ours = checkToolArguments(tool, args)
        const reference = (await client.callTool({ name: tool.name, arguments: args as Record<string, unknown> })) as {
          isError?: boolean
          content: { text: string }[]
        }
        if (reference.isError) {
          expect(ours).toEqual({ ok: false, message: reference.content[0]!.text })
        } else {
          expect(ours.ok).toBe(true)
          // Compared as JSON: what crosses to the key's object is JSON-like (structured clone), as the SDK's handler gets it.
          expect(JSON.stringify(ours.ok && ours.arguments)).toBe(reference.content[0]!.text)
        }
      }),
      { numRuns: 300 },
    )
  })
})
