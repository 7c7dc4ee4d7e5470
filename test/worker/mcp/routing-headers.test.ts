/**
 * Mcp-Method / Mcp-Name (MCP 2026-07-28, SEP-2243) let infrastructure route and authorize without reading the body.
 * Property: a request carrying either header is served only when the headers say exactly what the body says
 * (Mcp-Method = method; Mcp-Name = params.name of tools/call and prompts/get, params.uri of the resource methods,
 * absent elsewhere); otherwise HTTP 400 with JSON-RPC -32020, audited `denied header_mismatch`, and Odoo is never
 * asked. Checked with generated pairs of header and body against that reference, plus known attacks.
 */
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { auditByRequestId, flushAudit } from '../audit/helpers'
import { createTestKey, postMcp, sim } from '../helpers'
import { FULL_ACCESS } from './policies'

let keyId: string
let key: string

beforeAll(async () => {
  ;({ id: keyId, key } = await createTestKey({ policy: FULL_ACCESS }))
})

const NAME_PARAMETER: Record<string, 'name' | 'uri'> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
  'resources/subscribe': 'uri',
  'resources/unsubscribe': 'uri',
}

/**
 * The reference: whether the headers agree with the body (absent headers always do). A header's surrounding spaces
 * are not part of its value (RFC 9110 §5.5), so they never reach the gateway.
 */
function headersAgree(sent: { method?: string; name?: string }, body: { method: string; params: Record<string, unknown> }): boolean {
  const method = sent.method?.trim()
  const name = sent.name?.trim()
  if (method !== undefined && method !== body.method) return false
  if (name === undefined) return true
  const parameter = NAME_PARAMETER[body.method]
  return parameter !== undefined && body.params[parameter] === name
}

const METHODS = ['tools/list', 'tools/call', 'ping', 'resources/read', 'prompts/get', 'initialize']
const NAMES = ['count_records', 'delete_records', 'list_models', 'file:///etc/passwd', 'Count_Records', 'count_records ']

async function send(headers: { method?: string; name?: string }, body: { method: string; params: Record<string, unknown> }) {
  const extra: Record<string, string> = {}
  if (headers.method !== undefined) extra['mcp-method'] = headers.method
  if (headers.name !== undefined) extra['mcp-name'] = headers.name
  const response = await postMcp(key, { jsonrpc: '2.0', id: 7, ...body }, extra)
  return { response, json: (await response.json()) as { error?: { code: number; message: string } } }
}

describe('Mcp-Method and Mcp-Name must match the body', () => {
  it('agrees with the reference on generated header and body pairs', async () => {
    const body = fc.record({
      method: fc.constantFrom(...METHODS),
      params: fc.record({ name: fc.option(fc.constantFrom(...NAMES), { nil: undefined }), uri: fc.option(fc.constantFrom(...NAMES), { nil: undefined }) }),
    }).map(({ method, params }) => ({
      method,
      params: Object.fromEntries(Object.entries({ ...params, ...(method === 'tools/call' ? { arguments: { model: 'res.country' } } : {}) }).filter(([, value]) => value !== undefined)),
    }))
    const header = fc.option(fc.constantFrom(...METHODS, ...NAMES, 'TOOLS/LIST', ''), { nil: undefined })
    await fc.assert(
      fc.asyncProperty(body, header, header, async (message, method, name) => {
        const headers = { method, name }
        const { response, json } = await send(headers, message)
        const mismatch = response.status === 400 && json.error?.code === -32020
        expect(mismatch, `${JSON.stringify(headers)} over ${JSON.stringify(message)}: ${response.status} ${JSON.stringify(json)}`).toBe(!headersAgree(headers, message))
      }),
      { numRuns: 150 },
    )
  }, 120_000)

  it('refuses a header that hides a tool call, names both in the message, audits it and never reaches Odoo', async () => {
    await sim.clearCalls()
    const call = { method: 'tools/call', params: { name: 'delete_records', arguments: { model: 'res.partner', ids: [1] } } }
    for (const headers of [{ method: 'tools/list' }, { method: 'tools/call', name: 'count_records' }, { name: 'list_models' }]) {
      const { response, json } = await send(headers, call)
      expect(response.status).toBe(400)
      expect(json.error).toMatchObject({ code: -32020, message: expect.stringMatching(/^Header mismatch: Mcp-(Method|Name) is "[^"]+" but the body's (method|params\.name) is "tools\/call"|"delete_records"/) })
      const requestId = response.headers.get('x-request-id')!
      await flushAudit([keyId])
      expect(await auditByRequestId(requestId)).toMatchObject({ outcome: 'denied', code: 'header_mismatch' })
    }
    expect((await sim.calls()).filter((entry) => entry.method === 'unlink')).toEqual([])
  })

  it('serves requests whose headers match, and those without them', async () => {
    const call = { method: 'tools/call', params: { name: 'count_records', arguments: { model: 'res.country' } } }
    for (const headers of [{}, { method: 'tools/call' }, { method: 'tools/call', name: 'count_records' }]) {
      const { response, json } = await send(headers, call)
      expect(response.status, JSON.stringify(json)).toBe(200)
      expect(json.error).toBeUndefined()
    }
  })
})
